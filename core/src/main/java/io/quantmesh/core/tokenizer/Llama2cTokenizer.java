package io.quantmesh.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The llama2.c {@code tokenizer.bin} vocabulary and its encoder/decoder, token for token as llama2.c's
 * {@code run.c} does it.
 *
 * <p>File: int32 max_token_length, then per token float32 score, int32 byte length, the piece bytes (little-endian).
 * The vocabulary size is not stored: it is the number of entries in the file. BOS = 1, EOS = 2 (llama2.c's fixed ids).
 *
 * <p>Encoding: a dummy-prefix " " token (unless the text is empty), each UTF-8 code point looked up whole or
 * else spelled as byte tokens (byte + 3), then repeatedly merge the adjacent pair whose concatenation is in the
 * vocabulary with the highest score (leftmost on ties). llama2.c rescans the whole sequence per merge (O(n²));
 * this does the same merges in the same order with a heap, so a whole evaluation file encodes in milliseconds.
 */
public final class Llama2cTokenizer implements Tokenizer {
    public static final int BOS = 1;
    public static final int EOS = 2;
    /** llama2.c only merges pairs scoring above its initial best score. */
    private static final float MIN_MERGE_SCORE = -1e10f;

    private final byte[][] pieces;
    private final float[] scores;
    private final int maxTokenLength;
    private final Map<String, Integer> ids; // piece bytes as ISO-8859-1 chars -> id (lowest id on duplicates)
    private final int[] byteValue;           // id -> raw byte for <0xNN> pieces, else -1

    private Llama2cTokenizer(byte[][] pieces, float[] scores, int maxTokenLength) {
        this.pieces = pieces;
        this.scores = scores;
        this.maxTokenLength = maxTokenLength;
        this.ids = new HashMap<>(pieces.length * 2);
        this.byteValue = new int[pieces.length];
        for (int i = 0; i < pieces.length; i++) {
            ids.putIfAbsent(key(pieces[i]), i);
            byteValue[i] = parseByteToken(pieces[i]);
        }
    }

    public static Llama2cTokenizer load(Path file) throws IOException {
        long size = Files.size(file);
        if (size > (1L << 30)) throw new IOException(file + ": " + size + " bytes is too large for a tokenizer.bin");
        return parse(Files.readAllBytes(file), file.toString());
    }

    /**
     * Loads the first {@code vocabSize} entries, as llama2.c does with the model's vocab_size (the file does not
     * record it); fewer entries than that is an error.
     */
    public static Llama2cTokenizer load(Path file, int vocabSize) throws IOException {
        if (vocabSize < 3) throw new IllegalArgumentException("vocab size " + vocabSize + " leaves no room for BOS/EOS");
        Llama2cTokenizer all = load(file);
        if (all.vocabSize() < vocabSize) {
            throw new IOException(file + ": " + all.vocabSize() + " tokens, but the model's vocab_size is " + vocabSize);
        }
        if (all.vocabSize() == vocabSize) return all;
        return new Llama2cTokenizer(Arrays.copyOf(all.pieces, vocabSize), Arrays.copyOf(all.scores, vocabSize),
                all.maxTokenLength);
    }

    /** Parses tokenizer.bin bytes; {@code source} names them in error messages. */
    public static Llama2cTokenizer parse(byte[] bytes, String source) throws IOException {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (in.remaining() < 4) throw new IOException(source + ": too short for a llama2.c tokenizer (no header)");
        int maxLen = in.getInt();
        if (maxLen <= 0 || maxLen > 1 << 16) {
            throw new IOException(source + ": max_token_length " + maxLen + " is not plausible; not a llama2.c tokenizer.bin");
        }
        List<byte[]> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        while (in.hasRemaining()) {
            int id = pieces.size();
            if (in.remaining() < 8) throw new IOException(source + ": truncated entry for token " + id);
            float score = in.getFloat();
            int len = in.getInt();
            if (len < 0 || len > in.remaining()) {
                throw new IOException(source + ": token " + id + " claims " + len + " bytes, " + in.remaining() + " left");
            }
            byte[] piece = new byte[len];
            in.get(piece);
            pieces.add(piece);
            scores.add(score);
        }
        if (pieces.size() < 3) throw new IOException(source + ": only " + pieces.size() + " tokens (need <unk>, BOS, EOS)");
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) s[i] = scores.get(i);
        return new Llama2cTokenizer(pieces.toArray(byte[][]::new), s, maxLen);
    }

    private static String key(byte[] piece) {
        return new String(piece, StandardCharsets.ISO_8859_1);
    }

    /** The byte of a {@code <0xNN>} piece (two hex digits, either case), or -1. */
    private static int parseByteToken(byte[] p) {
        if (p.length != 6 || p[0] != '<' || p[1] != '0' || p[2] != 'x' || p[5] != '>') return -1;
        int hi = Character.digit(p[3], 16), lo = Character.digit(p[4], 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    public int maxTokenLength() {
        return maxTokenLength;
    }

    public float score(int id) {
        return scores[check(id)];
    }

    /** The raw piece bytes as stored (spaces as ' ', byte tokens as the text {@code <0xNN>}). */
    public byte[] pieceBytes(int id) {
        return pieces[check(id)].clone();
    }

    @Override
    public String piece(int token) {
        return new String(pieces[check(token)], StandardCharsets.UTF_8);
    }

    private int check(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " outside vocabulary of " + pieces.length);
        }
        return id;
    }

    private int lookup(byte[] buf, int len) {
        Integer id = ids.get(new String(buf, 0, len, StandardCharsets.ISO_8859_1));
        return id == null ? -1 : id;
    }

    @Override
    public int[] encode(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int[] toks = new int[utf8.length + 1];
        int n = 0;
        if (utf8.length > 0) {
            int space = lookup(new byte[] {' '}, 1);
            toks[n++] = space >= 0 ? space : ' ' + 3;
        }
        byte[] cp = new byte[4];
        int len = 0;
        for (int i = 0; i < utf8.length; i++) {
            if ((utf8[i] & 0xC0) != 0x80) len = 0; // a lead byte starts a new code point
            cp[len++] = utf8[i];
            boolean continues = i + 1 < utf8.length && (utf8[i + 1] & 0xC0) == 0x80;
            if (continues && len < 4) continue;
            int id = lookup(cp, len);
            if (id >= 0) {
                toks[n++] = id;
            } else {
                for (int j = 0; j < len; j++) toks[n++] = (cp[j] & 0xff) + 3; // byte fallback: <0x00> is id 3
            }
            len = 0;
        }
        return merge(toks, n);
    }

    /** Best-score-first pair merging over a linked list; ties go to the leftmost pair, as in llama2.c. */
    private int[] merge(int[] toks, int n) {
        int[] next = new int[n], prev = new int[n], version = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        PriorityQueue<Candidate> heap = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) offer(heap, toks, version, i, i + 1);
        while (!heap.isEmpty()) {
            Candidate c = heap.poll();
            if (toks[c.left] < 0 || version[c.left] != c.leftVersion || next[c.left] != c.right
                    || version[c.right] != c.rightVersion) {
                continue; // stale: one side was merged away or changed since this pair was offered
            }
            toks[c.left] = c.merged;
            version[c.left]++;
            toks[c.right] = -1;
            next[c.left] = next[c.right];
            if (next[c.right] >= 0) prev[next[c.right]] = c.left;
            if (prev[c.left] >= 0) offer(heap, toks, version, prev[c.left], c.left);
            if (next[c.left] >= 0) offer(heap, toks, version, c.left, next[c.left]);
        }
        int[] out = new int[n];
        int m = 0;
        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) out[m++] = toks[i];
        return Arrays.copyOf(out, m);
    }

    private void offer(PriorityQueue<Candidate> heap, int[] toks, int[] version, int left, int right) {
        byte[] a = pieces[toks[left]], b = pieces[toks[right]];
        byte[] joined = new byte[a.length + b.length];
        System.arraycopy(a, 0, joined, 0, a.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        int id = lookup(joined, joined.length);
        if (id >= 0 && scores[id] > MIN_MERGE_SCORE) {
            heap.add(new Candidate(scores[id], left, right, id, version[left], version[right]));
        }
    }

    private record Candidate(float score, int left, int right, int merged, int leftVersion, int rightVersion)
            implements Comparable<Candidate> {
        @Override
        public int compareTo(Candidate o) {
            int c = Float.compare(o.score, score); // higher score first
            return c != 0 ? c : Integer.compare(left, o.left); // then leftmost
        }
    }

    @Override
    public byte[] decodeBytes(int previous, int token) {
        int b = byteValue[check(token)];
        if (b >= 0) return new byte[] {(byte) b};
        byte[] p = pieces[token];
        if (previous == BOS && p.length > 0 && p[0] == ' ') return Arrays.copyOfRange(p, 1, p.length);
        return p.clone();
    }

    /** Concatenated bytes of {@code tokens} decoded in sequence, the first one as if following {@code previous}. */
    public byte[] decode(int previous, int[] tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int prev = previous;
        for (int t : tokens) {
            out.writeBytes(decodeBytes(prev, t));
            prev = t;
        }
        return out.toByteArray();
    }
}
