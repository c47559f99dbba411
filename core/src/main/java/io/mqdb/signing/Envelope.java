package io.mqdb.signing;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The bytes of a signed node message (documented in {@code docs/wire-format.md}, "Signed messages"):
 *
 * <pre>
 * magic    4 bytes  4D 51 53 47 ("MQSG")
 * version  u8       1
 * signer   u8 length 1..64, then that many bytes of the signing node's name (A-Z a-z 0-9 _ -)
 * key id   8 bytes  the first 8 bytes of SHA-256 over the signer's public key (X.509 SubjectPublicKeyInfo)
 * sig      64 bytes the Ed25519 signature over {@link #signedHead} and the payload
 * payload  the rest: the message as it would travel unsigned
 * </pre>
 *
 * Every length is checked against the bytes there before it is used, so a broken envelope costs at most its bytes.
 * Stateless; any thread.
 */
public final class Envelope {
    /** The first bytes of a signed message; neither JSON nor the binary form ({@code MQDB}) starts so. */
    static final byte[] MAGIC = {'M', 'Q', 'S', 'G'};
    static final int VERSION = 1;
    /** Ed25519 signatures are 64 bytes. */
    static final int SIGNATURE_BYTES = 64;
    static final int KEY_ID_BYTES = 8;
    static final int MAX_NAME_BYTES = 64;
    /** What a signature covers first, so that a signature made for something else never verifies here. */
    static final byte[] DOMAIN = "mqdb signed node message v1\n".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    /**
     * A parsed envelope, not yet verified.
     *
     * @param signer the node it names as its signer
     * @param keyId the id of the key it names
     * @param signature the signature
     * @param payloadFrom where the payload starts in the message
     */
    record Parsed(String signer, byte[] keyId, byte[] signature, int payloadFrom) {
    }

    private Envelope() {
    }

    /**
     * @param message a received payload
     * @return whether it starts like a signed message (it may still be malformed)
     */
    public static boolean isSigned(byte[] message) {
        if (message.length < MAGIC.length) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (message[i] != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The payload of a message, signed or not, <b>without verifying</b> the signature: for tools that only show
     * what nodes published ({@code mqdb status}); never for anything a node acts on.
     *
     * @param message a received payload
     * @return the payload inside a signed envelope, or {@code message} itself when it is not signed
     * @throws SignatureRefused when it starts like a signed message but is not a well-formed envelope
     */
    public static byte[] unverifiedPayload(byte[] message) {
        if (!isSigned(message)) {
            return message;
        }
        return java.util.Arrays.copyOfRange(message, parse(message).payloadFrom(), message.length);
    }

    static byte[] write(String signer, byte[] keyId, byte[] signature, byte[] payload) {
        byte[] name = signer.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[MAGIC.length + 2 + name.length + KEY_ID_BYTES + SIGNATURE_BYTES + payload.length];
        int at = 0;
        System.arraycopy(MAGIC, 0, out, at, MAGIC.length);
        at += MAGIC.length;
        out[at++] = VERSION;
        out[at++] = (byte) name.length;
        System.arraycopy(name, 0, out, at, name.length);
        at += name.length;
        System.arraycopy(keyId, 0, out, at, KEY_ID_BYTES);
        at += KEY_ID_BYTES;
        System.arraycopy(signature, 0, out, at, SIGNATURE_BYTES);
        at += SIGNATURE_BYTES;
        System.arraycopy(payload, 0, out, at, payload.length);
        return out;
    }

    /**
     * @param message a message that {@link #isSigned}
     * @return its parts
     * @throws SignatureRefused when it is not a well-formed envelope
     */
    static Parsed parse(byte[] message) {
        int at = MAGIC.length;
        if (message.length < at + 2) {
            throw new SignatureRefused("malformed signed message: truncated after " + message.length + " bytes");
        }
        int version = message[at++] & 0xFF;
        if (version != VERSION) {
            throw new SignatureRefused("malformed signed message: envelope version " + version
                    + ", this node reads version " + VERSION);
        }
        int nameLength = message[at++] & 0xFF;
        if (nameLength < 1 || nameLength > MAX_NAME_BYTES) {
            throw new SignatureRefused("malformed signed message: signer name of " + nameLength
                    + " bytes, expected 1 to " + MAX_NAME_BYTES);
        }
        if (message.length < at + nameLength + KEY_ID_BYTES + SIGNATURE_BYTES) {
            throw new SignatureRefused("malformed signed message: truncated after " + message.length + " bytes");
        }
        String signer = new String(message, at, nameLength, StandardCharsets.US_ASCII);
        if (!NAME.matcher(signer).matches()) {
            throw new SignatureRefused("malformed signed message: the signer's name is not a node name");
        }
        at += nameLength;
        byte[] keyId = java.util.Arrays.copyOfRange(message, at, at + KEY_ID_BYTES);
        at += KEY_ID_BYTES;
        byte[] signature = java.util.Arrays.copyOfRange(message, at, at + SIGNATURE_BYTES);
        at += SIGNATURE_BYTES;
        return new Parsed(signer, keyId, signature, at);
    }

    /**
     * What a signature covers: the domain string, the context (see {@link Signing#context}), the signer, the key id
     * (each length-prefixed, so no two inputs give the same bytes); the payload follows it.
     */
    static byte[] signedHead(String context, String signer, byte[] keyId) {
        byte[] c = context.getBytes(StandardCharsets.UTF_8);
        byte[] s = signer.getBytes(StandardCharsets.US_ASCII);
        byte[] head = new byte[DOMAIN.length + 4 + c.length + 1 + s.length + KEY_ID_BYTES];
        int at = 0;
        System.arraycopy(DOMAIN, 0, head, at, DOMAIN.length);
        at += DOMAIN.length;
        head[at++] = (byte) (c.length >>> 24);
        head[at++] = (byte) (c.length >>> 16);
        head[at++] = (byte) (c.length >>> 8);
        head[at++] = (byte) c.length;
        System.arraycopy(c, 0, head, at, c.length);
        at += c.length;
        head[at++] = (byte) s.length;
        System.arraycopy(s, 0, head, at, s.length);
        at += s.length;
        System.arraycopy(keyId, 0, head, at, KEY_ID_BYTES);
        return head;
    }
}
