package io.mqdb.signing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The envelope and its checks: what verifies, and the documented reason for each refusal. */
class SigningTest {
    private static final KeyPair A = Keys.generate();
    private static final KeyPair B = Keys.generate();
    private static final KeyPair STRANGER = Keys.generate();
    private static final TrustList TRUST = new TrustList(Map.of("node-a", List.of(A.getPublic()),
            "node-b", List.of(B.getPublic())));
    private static final String TOPIC = "mqdb/mqdb/ch/shop/items";
    private static final byte[] PAYLOAD = "{\"v\":1,\"origin\":\"node-a\",\"events\":[]}"
            .getBytes(StandardCharsets.UTF_8);

    private final Signing a = new Signing("node-a", A.getPrivate(), TRUST);
    private final Signing b = new Signing("node-b", B.getPrivate(), TRUST);

    @Test
    void aSealedMessageOpensWithItsSignerAndPayload() {
        byte[] sealed = a.seal(TOPIC, PAYLOAD);
        assertThat(Envelope.isSigned(sealed)).isTrue();
        assertThat(Envelope.isSigned(PAYLOAD)).isFalse();
        Signing.Verified v = b.open(TOPIC, sealed);
        assertThat(v.signer()).isEqualTo("node-a");
        assertThat(v.payload()).isEqualTo(PAYLOAD);
        System.out.printf("envelope overhead: %d bytes for signer node-a%n", sealed.length - PAYLOAD.length);
    }

    @Test
    void aChangeBatchVerifiesOnADirectTopicOfItsChannelButNowhereElse() {
        byte[] sealed = a.seal(TOPIC, PAYLOAD);
        assertThat(b.open("mqdb/mqdb/to/node-b/ch/shop/items", sealed).signer()).isEqualTo("node-a");
        for (String other : List.of("mqdb/mqdb/ch/shop/orders", "mqdb/other/ch/shop/items",
                "mqdb/mqdb/to/node-b/snap/shop/items", "mqdb/mqdb/pos/shop/items/node-a")) {
            assertThatThrownBy(() -> b.open(other, sealed)).isInstanceOf(SignatureRefused.class)
                    .hasMessageContaining("signature does not verify");
        }
    }

    @Test
    void aTamperedPayloadDoesNotVerify() {
        byte[] sealed = a.seal(TOPIC, PAYLOAD);
        sealed[sealed.length - 3] ^= 1;
        assertThatThrownBy(() -> b.open(TOPIC, sealed)).isInstanceOf(SignatureRefused.class)
                .hasMessage("signature does not verify (signed by node-a, key " + a.keyIdText()
                        + "): the message was changed, or signed for another topic");
    }

    @Test
    void aSignerRenamedInTheEnvelopeDoesNotVerify() {
        // node-b replaces the signer name of its own message with node-a's, same length: the key id then names no
        // key of node-a (and were it node-a's, the signature covers the signer's name).
        byte[] sealed = b.seal(TOPIC, PAYLOAD);
        byte[] renamed = sealed.clone();
        renamed[6 + 5] = 'a';
        assertThatThrownBy(() -> a.open(TOPIC, renamed)).isInstanceOf(SignatureRefused.class)
                .hasMessageStartingWith("signed by node-a with key ");
    }

    @Test
    void anUnknownSignerAndAnUntrustedKeyAreRefused() {
        TrustList withC = new TrustList(Map.of("node-a", List.of(A.getPublic()), "node-b", List.of(B.getPublic()),
                "node-c", List.of(STRANGER.getPublic())));
        byte[] byC = new Signing("node-c", STRANGER.getPrivate(), withC).seal(TOPIC, PAYLOAD);
        assertThatThrownBy(() -> b.open(TOPIC, byC)).isInstanceOf(SignatureRefused.class)
                .hasMessage("signed by node-c, which is not in node.signing.trust");
        TrustList strangerAsA = new TrustList(Map.of("node-a", List.of(STRANGER.getPublic())));
        byte[] wrongKey = new Signing("node-a", STRANGER.getPrivate(), strangerAsA).seal(TOPIC, PAYLOAD);
        assertThatThrownBy(() -> b.open(TOPIC, wrongKey)).isInstanceOf(SignatureRefused.class)
                .hasMessageContaining("which node.signing.trust does not hold for node-a");
    }

    @Test
    void truncatedAndOversizedEnvelopesAreRefusedBeforeAnyCrypto() {
        byte[] sealed = a.seal(TOPIC, PAYLOAD);
        for (int len : new int[] {4, 5, 6, 20, 6 + 6 + 8 + 63}) {
            byte[] cut = Arrays.copyOf(sealed, len);
            assertThatThrownBy(() -> b.open(TOPIC, cut)).isInstanceOf(SignatureRefused.class)
                    .hasMessageStartingWith("malformed signed message: truncated");
        }
        byte[] longName = sealed.clone();
        longName[5] = (byte) 200;
        assertThatThrownBy(() -> b.open(TOPIC, longName)).isInstanceOf(SignatureRefused.class)
                .hasMessage("malformed signed message: signer name of 200 bytes, expected 1 to 64");
        byte[] version = sealed.clone();
        version[4] = 9;
        assertThatThrownBy(() -> b.open(TOPIC, version)).isInstanceOf(SignatureRefused.class)
                .hasMessage("malformed signed message: envelope version 9, this node reads version 1");
        byte[] badName = sealed.clone();
        badName[6] = '/';
        assertThatThrownBy(() -> b.open(TOPIC, badName)).isInstanceOf(SignatureRefused.class)
                .hasMessage("malformed signed message: the signer's name is not a node name");
    }

    @Test
    void anUnsignedMessageIsRefused() {
        assertThatThrownBy(() -> b.open(TOPIC, PAYLOAD)).isInstanceOf(SignatureRefused.class)
                .hasMessage("unsigned message refused (node.signing is on)");
    }

    @Test
    void duringRotationBothKeysOfANodeVerifyAndTheNodeSignsWithTheOneItHolds() {
        KeyPair next = Keys.generate();
        TrustList rotating = new TrustList(Map.of("node-a", List.of(A.getPublic(), next.getPublic()),
                "node-b", List.of(B.getPublic())));
        Signing oldA = new Signing("node-a", A.getPrivate(), rotating);
        Signing newA = new Signing("node-a", next.getPrivate(), rotating);
        Signing reader = new Signing("node-b", B.getPrivate(), rotating);
        assertThat(newA.keyIdText()).isNotEqualTo(oldA.keyIdText());
        assertThat(reader.open(TOPIC, oldA.seal(TOPIC, PAYLOAD)).signer()).isEqualTo("node-a");
        assertThat(reader.open(TOPIC, newA.seal(TOPIC, PAYLOAD)).signer()).isEqualTo("node-a");
        // once the old key is removed from the trust list, what it signs is refused
        assertThatThrownBy(() -> b.open(TOPIC, newA.seal(TOPIC, PAYLOAD))).isInstanceOf(SignatureRefused.class);
    }

    @Test
    void aKeyThatMatchesNoTrustedKeyOfTheNodeIsRefusedAtStart() {
        assertThatThrownBy(() -> new Signing("node-a", B.getPrivate(), TRUST))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("node.signing.key does not match any public key node.signing.trust holds for node-a");
        assertThatThrownBy(() -> new Signing("node-z", A.getPrivate(), TRUST))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("node.signing.trust holds no public key of this node (node-z)");
    }

    @Test
    void keysRoundTripThroughTheirTextForms() {
        assertThat(Keys.privateKey(Keys.pem(A.getPrivate())).getEncoded()).isEqualTo(A.getPrivate().getEncoded());
        assertThat(Keys.publicKey(Keys.text(A.getPublic()))).isEqualTo(A.getPublic());
        assertThatThrownBy(() -> Keys.privateKey("not a key")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("not a key");
        assertThatThrownBy(() -> Keys.publicKey("AAAA")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aToolReadsTheUnverifiedPayloadOfASignedMessageAndAPlainOneAsItIs() {
        byte[] sealed = a.seal("mqdb/mqdb/applied/shop/items/node-a", PAYLOAD);
        assertThat(Envelope.unverifiedPayload(sealed)).isEqualTo(PAYLOAD);
        assertThat(Envelope.unverifiedPayload(PAYLOAD)).isSameAs(PAYLOAD);
        byte[] truncated = java.util.Arrays.copyOf(sealed, 10);
        assertThatThrownBy(() -> Envelope.unverifiedPayload(truncated)).isInstanceOf(SignatureRefused.class);
    }
}
