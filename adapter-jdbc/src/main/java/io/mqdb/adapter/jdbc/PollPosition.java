package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Bytes;
import io.mqdb.spi.CapturePosition;
import io.mqdb.spi.Key;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The state of {@link PollingCapture}, per table, and its text form. Mutable, not thread-safe; {@link #copy} before
 * handing a snapshot out.
 *
 * <p>Token: {@code poll:} then one entry per table, separated by {@code ;}:
 * <ul>
 *   <li>incrementing: {@code schema:table=W} or {@code schema:table=W+ranges}: every value up to W is handled, the
 *   ranges ({@link IdRanges}) are the values above W already published;</li>
 *   <li>timestamp: {@code schema:table@M} then groups {@code /D:HHH...}: M is the highest column value published
 *   (epoch microseconds), each group a column value M-D (D in base 36) and the 11-character hashes of the keys
 *   published at that value, for the values inside the look-back window only.</li>
 * </ul>
 * The token of earlier versions, {@code p:schema:table=value,...}, reads as incrementing watermarks.
 */
final class PollPosition {
    private static final String PREFIX = "poll:";
    private static final int HASH_CHARS = 11;

    /** Incrementing state: the watermark and the values above it already published. */
    static final class Incrementing {
        long watermark;
        final IdRanges published;

        Incrementing(long watermark, IdRanges published) {
            this.watermark = watermark;
            this.published = published;
        }
    }

    /** Timestamp state: the highest value published and, per value inside the look-back, the keys published at it. */
    static final class Timestamp {
        long maxMicros;
        final TreeMap<Long, Set<String>> published;

        Timestamp(long maxMicros, TreeMap<Long, Set<String>> published) {
            this.maxMicros = maxMicros;
            this.published = published;
        }

        int size() {
            int n = 0;
            for (Set<String> s : published.values()) {
                n += s.size();
            }
            return n;
        }

        boolean contains(long micros, String hash) {
            Set<String> s = published.get(micros);
            return s != null && s.contains(hash);
        }

        /** Records a published (value, key) and forgets what fell out of the look-back window. */
        void add(long micros, String hash, long lookbackMicros) {
            published.computeIfAbsent(micros, x -> new HashSet<>()).add(hash);
            maxMicros = Math.max(maxMicros, micros);
            published.headMap(maxMicros - lookbackMicros, true).clear();
        }
    }

    private final Map<TableId, Object> tables = new TreeMap<>();

    Incrementing incrementing(TableId id) {
        return tables.get(id) instanceof Incrementing i ? i : null;
    }

    Timestamp timestamp(TableId id) {
        return tables.get(id) instanceof Timestamp t ? t : null;
    }

    void put(TableId id, Object state) {
        tables.put(id, state);
    }

    PollPosition copy() {
        PollPosition c = new PollPosition();
        for (Map.Entry<TableId, Object> e : tables.entrySet()) {
            if (e.getValue() instanceof Incrementing i) {
                c.tables.put(e.getKey(), new Incrementing(i.watermark, i.published.copy()));
            } else {
                Timestamp t = (Timestamp) e.getValue();
                TreeMap<Long, Set<String>> p = new TreeMap<>();
                t.published.forEach((k, v) -> p.put(k, new HashSet<>(v)));
                c.tables.put(e.getKey(), new Timestamp(t.maxMicros, p));
            }
        }
        return c;
    }

    CapturePosition encode() {
        StringBuilder sb = new StringBuilder(PREFIX);
        for (Map.Entry<TableId, Object> e : tables.entrySet()) {
            if (sb.length() > PREFIX.length()) {
                sb.append(';');
            }
            sb.append(e.getKey());
            if (e.getValue() instanceof Incrementing i) {
                sb.append('=').append(i.watermark);
                if (!i.published.isEmpty()) {
                    sb.append('+').append(i.published.encode());
                }
            } else {
                Timestamp t = (Timestamp) e.getValue();
                sb.append('@').append(t.maxMicros);
                for (Map.Entry<Long, Set<String>> g : t.published.entrySet()) {
                    sb.append('/').append(Long.toString(t.maxMicros - g.getKey(), 36)).append(':');
                    g.getValue().stream().sorted().forEach(sb::append);
                }
            }
        }
        return new CapturePosition(sb.toString());
    }

    static PollPosition decode(CapturePosition position) {
        String token = position.token();
        PollPosition p = new PollPosition();
        try {
            if (token.startsWith("p:")) {
                String body = token.substring(2);
                for (String part : body.isEmpty() ? new String[0] : body.split(",")) {
                    int eq = part.lastIndexOf('=');
                    p.tables.put(TableId.parse(part.substring(0, eq)),
                            new Incrementing(Long.parseLong(part.substring(eq + 1)), new IdRanges()));
                }
                return p;
            }
            if (!token.startsWith(PREFIX)) {
                throw new IllegalArgumentException("expected " + PREFIX);
            }
            String body = token.substring(PREFIX.length());
            for (String part : body.isEmpty() ? new String[0] : body.split(";")) {
                int eq = part.indexOf('=');
                int at = part.indexOf('@');
                if (eq > 0) {
                    String rest = part.substring(eq + 1);
                    int plus = rest.indexOf('+');
                    p.tables.put(TableId.parse(part.substring(0, eq)), new Incrementing(
                            Long.parseLong(plus < 0 ? rest : rest.substring(0, plus)),
                            IdRanges.decode(plus < 0 ? "" : rest.substring(plus + 1))));
                } else {
                    String[] groups = part.substring(at + 1).split("/");
                    long max = Long.parseLong(groups[0]);
                    TreeMap<Long, Set<String>> published = new TreeMap<>();
                    for (int g = 1; g < groups.length; g++) {
                        int colon = groups[g].indexOf(':');
                        Set<String> hashes = new HashSet<>();
                        String h = groups[g].substring(colon + 1);
                        for (int i = 0; i + HASH_CHARS <= h.length(); i += HASH_CHARS) {
                            hashes.add(h.substring(i, i + HASH_CHARS));
                        }
                        published.put(max - Long.parseLong(groups[g].substring(0, colon), 36), hashes);
                    }
                    p.tables.put(TableId.parse(part.substring(0, at)), new Timestamp(max, published));
                }
            }
            return p;
        } catch (RuntimeException e) {
            throw new MqdbException("capture: poll: unreadable position \"" + token + "\": " + e.getMessage(), e);
        }
    }

    /** A stable 64-bit hash of a key, as 11 characters of URL-safe base64. */
    static String keyHash(Key key) {
        StringBuilder sb = new StringBuilder();
        for (Object v : key.values()) {
            sb.append(v instanceof Bytes b ? HexFormat.of().formatHex(b.toArray()) : String.valueOf(v))
                    .append('\u0000');
        }
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
            byte[] first = new byte[8];
            System.arraycopy(d, 0, first, 0, 8);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(first);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
