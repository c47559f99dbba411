package io.mqdb.node.deadletter;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.mqdb.spi.MqdbException;
import io.mqdb.spi.TableId;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Reads the dead-letter files a node writes ({@code io.mqdb.node.deadletter.DeadLetters}: one JSON line per letter in
 * {@code <data-dir>/dead-letters/<schema>.<table>.jsonl}) and moves replayed letters to
 * {@code <data-dir>/dead-letters/replayed/<schema>.<table>.jsonl}.
 *
 * <p>A letter's id is {@code <schema>.<table>:<line>}, its line number in the live file. A replayed letter's line is
 * blanked, not removed, so the ids of the other letters never change and an id, once replayed, names nothing: replaying
 * it again is refused instead of sending some other letter.
 *
 * <p>The node appends to the live file while a replay runs, and takes no lock this class could share. So the live file
 * is rewritten atomically (temporary file, fsync, rename) from a fresh read taken after the letters were published,
 * blanking a line only when it still holds the same letter; the rewrite starts again from a new read when the file
 * grew before the rename, and what the node appended to the old file after the read is copied to the new one after
 * the rename. Two replays exclude each other with {@link #lockReplays}. Stateless; called on the caller's thread
 * (the CLI's, or a node's HTTP handler).
 */
public final class DeadLetterFiles {
    /** The folder, under the dead-letter folder, of replayed letters. */
    public static final String REPLAYED = "replayed";
    private static final String SUFFIX = ".jsonl";
    /** Lets a node thread that opened the old file just before the rename finish its line. */
    private static final long RENAME_GRACE_MS = 100;
    private static final int ATTEMPTS = 3;
    private static final TypeAdapter<JsonElement> STRICT_JSON = new Gson().getAdapter(JsonElement.class);

    private DeadLetterFiles() {
    }

    /**
     * One line of a live dead-letter file.
     *
     * @param table the table, from the file name
     * @param line the line number, from 1
     * @param raw the line as written, without its newline
     * @param json the parsed line, or null when it is not a JSON object
     */
    public record Letter(TableId table, int line, String raw, JsonObject json) {
        /** @return {@code <schema>.<table>:<line>} */
        public Id id() {
            return new Id(table, line);
        }

        public boolean readable() {
            return json != null;
        }

        public String time() {
            return text("time").orElse("?");
        }

        public String reason() {
            return readable() ? text("reason").orElse("") : "(unreadable line, not JSON)";
        }

        /** @return the channel the letter arrived on, from its {@code channel} field, else from the file name */
        public TableId channel() {
            try {
                return text("channel").map(TableId::parse).orElse(table);
            } catch (IllegalArgumentException e) {
                return table;
            }
        }

        /** @return the original message: {@code payload} as UTF-8, or {@code payloadBase64} decoded; empty if none */
        public Optional<byte[]> payload() {
            Optional<String> text = text("payload");
            if (text.isPresent()) {
                return Optional.of(text.get().getBytes(StandardCharsets.UTF_8));
            }
            try {
                return text("payloadBase64").map(Base64.getDecoder()::decode);
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }

        /** @return whether the payload is a binary batch (wire format version 2: it starts with {@code MQDB}) */
        public boolean payloadIsBinaryBatch() {
            return payload().map(p -> p.length > 4 && p[0] == 'M' && p[1] == 'Q' && p[2] == 'D' && p[3] == 'B')
                    .orElse(false);
        }

        /** @return whether the payload is UTF-8 JSON (what a node can decode at all, with a binary batch) */
        public boolean payloadIsJson() {
            Optional<String> text = text("payload");
            if (text.isEmpty()) {
                return false;
            }
            // strict, unlike JsonParser, which would take the word hello for a JSON string
            try (JsonReader r = new JsonReader(new StringReader(text.get()))) {
                r.setStrictness(Strictness.STRICT);
                STRICT_JSON.read(r);
                return r.peek() == JsonToken.END_DOCUMENT;
            } catch (IOException | JsonParseException | IllegalStateException e) {
                return false;
            }
        }

        private Optional<String> text(String field) {
            JsonElement e = json == null ? null : json.get(field);
            return e != null && e.isJsonPrimitive() ? Optional.of(e.getAsString()) : Optional.empty();
        }
    }

    /**
     * A letter's id.
     *
     * @param table the table
     * @param line the line number in its live file, from 1
     */
    public record Id(TableId table, int line) {
        /**
         * @param id {@code <schema>.<table>:<line>}
         * @return the id
         * @throws IllegalArgumentException when it is not an id
         */
        public static Id parse(String id) {
            int colon = id.lastIndexOf(':');
            int dot = id.indexOf('.');
            if (colon < 0 || dot < 0 || dot > colon) {
                throw new IllegalArgumentException("expected <schema>.<table>:<line>, got \"" + id + "\"");
            }
            int line;
            try {
                line = Integer.parseInt(id.substring(colon + 1));
            } catch (NumberFormatException e) {
                line = 0;
            }
            if (line < 1) {
                throw new IllegalArgumentException("expected a line number from 1 after the colon, got \"" + id
                        + "\"");
            }
            return new Id(new TableId(id.substring(0, dot), id.substring(dot + 1, colon)), line);
        }

        @Override
        public String toString() {
            return table.schema() + "." + table.table() + ":" + line;
        }
    }

    /**
     * @param dir the dead-letter folder
     * @param table a table
     * @return its live file
     */
    public static Path liveFile(Path dir, TableId table) {
        return dir.resolve(table.schema() + "." + table.table() + SUFFIX);
    }

    /**
     * The letters of every live file, by table, then line. Blank lines (replayed letters) and a last line without
     * its newline (the node is writing it) are left out.
     *
     * @param dir the dead-letter folder; missing means none
     * @param only the one table to read, or empty for all
     * @return the letters
     */
    public static List<Letter> list(Path dir, Optional<TableId> only) {
        List<Letter> out = new ArrayList<>();
        for (TableId table : tables(dir)) {
            if (only.isEmpty() || only.get().equals(table)) {
                out.addAll(read(dir, table));
            }
        }
        return out;
    }

    private static List<TableId> tables(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<TableId> tables = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                String name = f.getFileName().toString();
                if (!Files.isRegularFile(f) || !name.endsWith(SUFFIX)) {
                    continue;
                }
                String base = name.substring(0, name.length() - SUFFIX.length());
                int dot = base.indexOf('.');
                if (dot > 0 && TableId.isIdentifier(base.substring(0, dot))
                        && TableId.isIdentifier(base.substring(dot + 1))) {
                    tables.add(new TableId(base.substring(0, dot), base.substring(dot + 1)));
                }
            }
        } catch (IOException e) {
            throw new MqdbException("cannot list " + dir + ": " + e.getMessage(), e);
        }
        return tables;
    }

    private static List<Letter> read(Path dir, TableId table) {
        Path f = liveFile(dir, table);
        String text;
        try {
            text = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new MqdbException("cannot read " + f + ": " + e.getMessage(), e);
        }
        List<Letter> out = new ArrayList<>();
        List<String> lines = completeLines(text);
        for (int i = 0; i < lines.size(); i++) {
            String raw = lines.get(i);
            if (!raw.isBlank()) {
                out.add(new Letter(table, i + 1, raw, parse(raw)));
            }
        }
        return out;
    }

    private static JsonObject parse(String raw) {
        try {
            JsonElement e = JsonParser.parseString(raw);
            return e.isJsonObject() ? e.getAsJsonObject() : null;
        } catch (JsonParseException e) {
            return null;
        }
    }

    /** @return the lines that end with a newline; the rest, if any, is being written */
    private static List<String> completeLines(String text) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        for (int nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
            lines.add(text.substring(start, nl));
            start = nl + 1;
        }
        return lines;
    }

    /**
     * Takes the replay lock of a dead-letter folder ({@code .replay.lock} in it), so that two replays never rewrite
     * the same file at once (the second rename would bring back the letters the first one moved). The node does not
     * take it: its appends are handled by {@link #markReplayed}.
     *
     * @param dir the dead-letter folder, existing
     * @return closing it releases the lock
     * @throws MqdbException when another replay holds it
     */
    public static ReplayLock lockReplays(Path dir) {
        Path file = dir.resolve(".replay.lock");
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = ch.tryLock();
            if (lock != null) {
                FileChannel held = ch;
                return () -> closeQuietly(held);
            }
        } catch (OverlappingFileLockException e) {
            // held by this JVM
        } catch (IOException e) {
            closeQuietly(ch);
            throw new MqdbException("cannot lock " + file + ": " + e.getMessage(), e);
        }
        closeQuietly(ch);
        throw new MqdbException("another replay is running on " + dir + " (it holds " + file + ")");
    }

    /** The replay lock of a dead-letter folder, held until closed. */
    public interface ReplayLock extends AutoCloseable {
        /** Releases the lock. */
        @Override
        public void close();
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            if (ch != null) {
                ch.close();
            }
        } catch (IOException e) {
            // nothing held
        }
    }

    /**
     * Moves replayed letters of one table out of its live file: appends each, with {@code id} and
     * {@code replayedAt}, to {@code replayed/<schema>.<table>.jsonl} (fsynced), then blanks their lines in the live
     * file. A line is blanked only when it still holds the letter read before; letters no longer there are skipped.
     *
     * @param dir the dead-letter folder
     * @param table the table
     * @param letters letters of that table's live file
     * @param at the replay time
     */
    public static void markReplayed(Path dir, TableId table, List<Letter> letters, Instant at) {
        if (letters.isEmpty()) {
            return;
        }
        Path replayedDir = dir.resolve(REPLAYED);
        Path archive = liveFile(replayedDir, table);
        StringBuilder moved = new StringBuilder();
        for (Letter l : letters) {
            if (!l.table().equals(table) || !l.readable()) {
                throw new IllegalArgumentException("not a readable letter of " + table + ": " + l.id());
            }
            JsonObject o = l.json().deepCopy();
            o.addProperty("id", l.id().toString());
            o.addProperty("replayedAt", at.toString());
            moved.append(o).append('\n');
        }
        try {
            Files.createDirectories(replayedDir);
            try (FileChannel ch = FileChannel.open(archive, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND)) {
                writeFully(ch, moved.toString().getBytes(StandardCharsets.UTF_8));
                ch.force(true);
            }
            blank(liveFile(dir, table), letters);
        } catch (IOException e) {
            throw new MqdbException("cannot move replayed dead letters of " + table + " to " + archive + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Rewrites the live file with the letters' lines blanked. Only complete lines go into the new file; what the node
     * appended to the old file after the read (a line it was writing, lines it wrote just before the rename) is copied
     * over after the rename, so no letter is lost and a half-written line is completed in one piece.
     */
    private static void blank(Path live, List<Letter> letters) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try (FileChannel old = FileChannel.open(live, StandardOpenOption.READ)) {
                long size = old.size();
                byte[] content = readFully(old, 0, size);
                int complete = completeLength(content);
                byte[] rewritten = blankLines(Arrays.copyOf(content, complete), letters);
                Path tmp = live.resolveSibling("." + live.getFileName() + ".tmp-" + ProcessHandle.current().pid());
                try (FileChannel t = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
                    writeFully(t, rewritten);
                    t.force(true);
                }
                if (old.size() != size && attempt < ATTEMPTS) {
                    // the node appended meanwhile: a fresh read keeps its lines in order (the copy below would too,
                    // but after whatever the node writes to the new file first)
                    Files.delete(tmp);
                    continue;
                }
                move(tmp, live);
                fsyncDir(live.getParent());
                copyLateAppends(old, complete, live);
                return;
            }
        }
    }

    /** Copies the bytes of the old file from {@code from} on to the end of the new one. */
    private static void copyLateAppends(FileChannel old, long from, Path live) throws IOException {
        try {
            Thread.sleep(RENAME_GRACE_MS); // a node thread that opened the old file just before the rename writes now
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long now = old.size();
        if (now > from) {
            byte[] late = readFully(old, from, now - from);
            try (FileChannel ch = FileChannel.open(live, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                writeFully(ch, late);
                ch.force(true);
            }
        }
    }

    private static int completeLength(byte[] content) {
        for (int i = content.length - 1; i >= 0; i--) {
            if (content[i] == '\n') {
                return i + 1;
            }
        }
        return 0;
    }

    /** @return the content with each letter's line emptied, when that line still holds the letter */
    public static byte[] blankLines(byte[] content, List<Letter> letters) {
        int complete = completeLength(content); // after it, a line the node is writing, kept byte for byte
        List<String> lines = completeLines(new String(content, 0, complete, StandardCharsets.UTF_8));
        for (Letter l : letters) {
            int i = l.line() - 1;
            if (i < lines.size() && lines.get(i).equals(l.raw())) {
                lines.set(i, "");
            }
        }
        StringBuilder text = new StringBuilder(complete);
        for (String l : lines) {
            text.append(l).append('\n');
        }
        byte[] head = text.toString().getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[head.length + content.length - complete];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(content, complete, out, head.length, content.length - complete);
        return out;
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void fsyncDir(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // some platforms cannot open a folder; the rename is still atomic there
        }
    }

    private static byte[] readFully(FileChannel ch, long from, long length) throws IOException {
        if (length > Integer.MAX_VALUE - 8) {
            throw new IOException("dead-letter file larger than 2 GB");
        }
        ByteBuffer b = ByteBuffer.allocate((int) length);
        long pos = from;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos);
            if (n < 0) {
                break;
            }
            pos += n;
        }
        return b.array();
    }

    private static void writeFully(FileChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
