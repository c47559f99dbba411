package io.mqdb.signing;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Objects;

/**
 * Seals what this node publishes and opens what it receives, when {@code node.signing} is on: Ed25519 with this
 * node's private key, checked against the cluster's {@link TrustList}.
 *
 * <p>A signature covers the message's <em>context</em> ({@link #context}): its topic, except that a change batch
 * counts as its channel's whichever topic carries it (the channel topic, or a node's direct topic
 * {@code .../to/<node>/ch/<schema>/<table>} when the origin publishes it again from its outbox for one node). So a
 * batch is signed once, when it is appended to the outbox, and the same bytes serve restarts and resends; a signed
 * message cannot be moved to a topic of another kind, channel, node or cluster.
 *
 * <p>Who a verified message is from ({@link Verified#signer()}) is the signer's node name; the callers check that it
 * is the origin or node the message claims to be. Immutable; any thread ({@link Signature} objects are made per
 * call).
 */
public final class Signing {
    private final String node;
    private final PrivateKey key;
    private final byte[] keyId;
    private final TrustList trust;

    /**
     * A message whose signature verified.
     *
     * @param signer the node that signed it, a node of the trust list
     * @param payload the message inside the envelope
     */
    public record Verified(String signer, byte[] payload) {
    }

    /**
     * @param node this node's name
     * @param key this node's private key
     * @param trust the cluster's trust list; it must hold this node's public key
     * @throws IllegalArgumentException when the trust list holds no public key of {@code node} that matches
     *     {@code key}
     */
    public Signing(String node, PrivateKey key, TrustList trust) {
        this.node = Objects.requireNonNull(node, "node");
        this.key = Objects.requireNonNull(key, "key");
        this.trust = Objects.requireNonNull(trust, "trust");
        this.keyId = ownKeyId(node, key, trust);
    }

    /** The id of the trusted public key that verifies what {@code key} signs: found by signing a probe. */
    private static byte[] ownKeyId(String node, PrivateKey key, TrustList trust) {
        byte[] probe = ("mqdb key check " + node).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] sig = sign(key, probe);
        for (PublicKey k : trust.keys(node)) {
            if (verify(k, sig, probe, 0)) {
                return Keys.keyId(k);
            }
        }
        throw new IllegalArgumentException(trust.knows(node)
                ? "node.signing.key does not match any public key node.signing.trust holds for " + node
                : "node.signing.trust holds no public key of this node (" + node + "); add the line mqdb keygen "
                        + "printed for it");
    }

    /** @return this node's name */
    public String node() {
        return node;
    }

    /** @return the id of this node's key, in hex */
    public String keyIdText() {
        return Keys.keyIdText(keyId);
    }

    /** @return the trust list */
    public TrustList trust() {
        return trust;
    }

    /**
     * What a message on a topic is signed for: the topic itself, except a node's direct channel topic
     * ({@code <prefix>/<cluster>/to/<node>/ch/<schema>/<table>}), which counts as the channel topic
     * ({@code <prefix>/<cluster>/ch/<schema>/<table>}): resends carry the batches as the channel had them.
     *
     * @param topic an MQTT topic
     * @return its signing context
     */
    public static String context(String topic) {
        String[] p = topic.split("/", -1);
        if (p.length == 7 && p[2].equals("to") && p[4].equals("ch")) {
            return p[0] + "/" + p[1] + "/ch/" + p[5] + "/" + p[6];
        }
        return topic;
    }

    /**
     * Signs a message for a topic.
     *
     * @param topic the topic it is published on (or, for a change batch, any topic of its channel)
     * @param payload the message
     * @return the signed envelope, to publish instead of {@code payload}
     */
    public byte[] seal(String topic, byte[] payload) {
        byte[] head = Envelope.signedHead(context(topic), node, keyId);
        byte[] sig = sign(key, head, payload);
        return Envelope.write(node, keyId, sig, payload);
    }

    /**
     * Checks a received message's envelope and signature.
     *
     * @param topic the topic it came on
     * @param message the message as received
     * @return who signed it, and the message inside
     * @throws SignatureRefused when it is unsigned, malformed, signed by a node or key the trust list lacks, or its
     *     signature does not verify for this topic
     */
    public Verified open(String topic, byte[] message) {
        if (!Envelope.isSigned(message)) {
            throw new SignatureRefused("unsigned message refused (node.signing is on)");
        }
        Envelope.Parsed p = Envelope.parse(message);
        PublicKey k = trust.key(p.signer(), p.keyId()).orElseThrow(() -> new SignatureRefused(trust.knows(p.signer())
                ? "signed by " + p.signer() + " with key " + Keys.keyIdText(p.keyId()) + ", which "
                        + "node.signing.trust does not hold for " + p.signer()
                : "signed by " + p.signer() + ", which is not in node.signing.trust"));
        byte[] head = Envelope.signedHead(context(topic), p.signer(), p.keyId());
        if (!verify(k, p.signature(), head, p.payloadFrom(), message)) {
            throw new SignatureRefused("signature does not verify (signed by " + p.signer() + ", key "
                    + Keys.keyIdText(p.keyId()) + "): the message was changed, or signed for another topic");
        }
        return new Verified(p.signer(), Arrays.copyOfRange(message, p.payloadFrom(), message.length));
    }

    private static byte[] sign(PrivateKey key, byte[]... parts) {
        try {
            Signature s = Signature.getInstance(Keys.ALGORITHM);
            s.initSign(key);
            for (byte[] part : parts) {
                s.update(part);
            }
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with " + Keys.ALGORITHM + ": " + e.getMessage(), e);
        }
    }

    private static boolean verify(PublicKey key, byte[] sig, byte[] head, int from, byte[] message) {
        try {
            Signature s = Signature.getInstance(Keys.ALGORITHM);
            s.initVerify(key);
            s.update(head);
            s.update(message, from, message.length - from);
            return s.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean verify(PublicKey key, byte[] sig, byte[] message, int from) {
        return verify(key, sig, new byte[0], from, message);
    }
}
