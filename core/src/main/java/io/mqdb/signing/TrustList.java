package io.mqdb.signing;

import java.security.PublicKey;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster's trust list: per node name, the public keys whose signatures count as that node's. A node lists
 * several keys while it changes its key (old and new), see {@code docs/security.md}, "Key rotation". Immutable; any
 * thread.
 */
public final class TrustList {
    private record Trusted(PublicKey key, byte[] id) {
    }

    private final Map<String, List<Trusted>> byNode;

    /** @param keys per node name, its public keys (at least one each) */
    public TrustList(Map<String, List<PublicKey>> keys) {
        Map<String, List<Trusted>> m = new LinkedHashMap<>();
        keys.forEach((node, list) -> m.put(node, list.stream().map(k -> new Trusted(k, Keys.keyId(k))).toList()));
        this.byNode = Map.copyOf(m);
    }

    /** @return whether the node has a key here */
    public boolean knows(String node) {
        return byNode.containsKey(node);
    }

    /** @return the node's keys, in the order given */
    public List<PublicKey> keys(String node) {
        return byNode.getOrDefault(node, List.of()).stream().map(Trusted::key).toList();
    }

    /**
     * @param node a node name
     * @param keyId a key id
     * @return the node's key with that id
     */
    Optional<PublicKey> key(String node, byte[] keyId) {
        for (Trusted t : byNode.getOrDefault(node, List.of())) {
            if (Arrays.equals(t.id(), keyId)) {
                return Optional.of(t.key());
            }
        }
        return Optional.empty();
    }

    /** @return how many nodes it lists */
    public int size() {
        return byNode.size();
    }
}
