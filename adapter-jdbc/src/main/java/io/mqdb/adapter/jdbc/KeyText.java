package io.mqdb.adapter.jdbc;

import io.mqdb.spi.Column;
import io.mqdb.spi.ColumnType;
import io.mqdb.spi.InvalidDataException;
import io.mqdb.spi.Key;
import io.mqdb.spi.TableSchema;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Reads the key a capture trigger wrote: a JSON array of scalars made by the database ({@code json_build_array},
 * {@code JSON_ARRAY}, {@code json_array}). Each value is converted to its key column's portable type.
 */
final class KeyText {
    private KeyText() {
    }

    /** Key column types a capture trigger can write as JSON and this class can read back. */
    static boolean capturable(ColumnType type) {
        return switch (type) {
            case STRING, INT64, DECIMAL, BOOLEAN, TIMESTAMP, DATE, UUID -> true;
            default -> false;
        };
    }

    static Key parse(String json, TableSchema schema) {
        List<Object> raw = parseArray(json);
        List<Column> kc = schema.keyColumns();
        if (raw.size() != kc.size()) {
            throw new InvalidDataException(schema.table() + ": change-log key " + json + " does not match primary key "
                    + schema.primaryKey());
        }
        Object[] values = new Object[raw.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = convert(raw.get(i), kc.get(i).type());
        }
        return schema.validate(Key.of(values));
    }

    private static Object convert(Object v, ColumnType type) {
        String s = v instanceof BigDecimal b ? b.toString() : String.valueOf(v);
        return switch (type) {
            case STRING -> v instanceof BigDecimal b ? b.toPlainString() : s;
            case INT64 -> v instanceof BigDecimal b ? b.longValueExact() : Long.parseLong(s);
            case DOUBLE -> Double.parseDouble(s);
            case DECIMAL -> v instanceof BigDecimal b ? b : new BigDecimal(s);
            case BOOLEAN -> v instanceof Boolean b ? b : !(s.equals("0") || s.equalsIgnoreCase("false"));
            case TIMESTAMP -> timestamp(s);
            case DATE -> LocalDate.parse(s);
            case UUID -> UUID.fromString(s);
            default -> throw new InvalidDataException("key columns of type " + type + " cannot be captured");
        };
    }

    private static Instant timestamp(String s) {
        String t = s.trim().replace(' ', 'T');
        if (t.endsWith("Z")) {
            return Instant.parse(t);
        }
        int tpos = t.indexOf('T');
        if (tpos > 0 && (t.indexOf('+', tpos) > 0 || t.indexOf('-', tpos) > 0)) {
            return OffsetDateTime.parse(t).toInstant();
        }
        return SqliteDialect.parseTimestamp(t);
    }

    /** Parses a JSON array of strings, numbers (as BigDecimal, exact), booleans and nulls. */
    static List<Object> parseArray(String json) {
        List<Object> out = new ArrayList<>();
        int[] pos = {skip(json, 0)};
        expect(json, pos, '[');
        pos[0] = skip(json, pos[0]);
        if (json.charAt(pos[0]) == ']') {
            return out;
        }
        while (true) {
            pos[0] = skip(json, pos[0]);
            out.add(value(json, pos));
            pos[0] = skip(json, pos[0]);
            char c = json.charAt(pos[0]++);
            if (c == ']') {
                return out;
            }
            if (c != ',') {
                throw new IllegalArgumentException("bad JSON array " + json);
            }
        }
    }

    private static Object value(String s, int[] pos) {
        char c = s.charAt(pos[0]);
        if (c == '"') {
            StringBuilder sb = new StringBuilder();
            int i = pos[0] + 1;
            while (true) {
                char ch = s.charAt(i++);
                if (ch == '"') {
                    break;
                }
                if (ch == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        case 'r' -> sb.append('\r');
                        case 'b' -> sb.append('\b');
                        case 'f' -> sb.append('\f');
                        case 'u' -> {
                            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> sb.append(e);
                    }
                } else {
                    sb.append(ch);
                }
            }
            pos[0] = i;
            return sb.toString();
        }
        int start = pos[0];
        while (pos[0] < s.length() && ",] \t\r\n".indexOf(s.charAt(pos[0])) < 0) {
            pos[0]++;
        }
        String tok = s.substring(start, pos[0]);
        return switch (tok) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            case "null" -> null;
            default -> new BigDecimal(tok);
        };
    }

    private static void expect(String s, int[] pos, char c) {
        if (s.charAt(pos[0]) != c) {
            throw new IllegalArgumentException("bad JSON array " + s);
        }
        pos[0]++;
    }

    private static int skip(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }
}
