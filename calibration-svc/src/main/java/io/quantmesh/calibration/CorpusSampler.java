package io.quantmesh.calibration;

import io.quantmesh.core.tokenizer.Tokenizer;

/**
 * Draws a calibration set from a {@link Corpus}: N windows of L tokens, each tokenized with the model's own
 * tokenizer.
 *
 * <p>Window i starts at a character offset drawn from a SplitMix64 stream keyed by (seed, i), uniform over the
 * corpus text, moved forward to the next word start (wrapping at the end). The text from there is encoded (the
 * tokenizer's plain encoding, as for any prompt) and the sequence is BOS followed by its first L−1 tokens (L tokens
 * for a vocabulary without BOS), so each window looks like a document the model reads from its first position.
 * Windows near the end of the text run on into the first file. Window i depends only on (seed, i): the first 64 of
 * 128 windows are the 64 windows of N = 64.
 */
public final class CorpusSampler {
    public static final int DEFAULT_SAMPLES = 128;
    public static final int MAX_SEQ_LEN = 2048;
    /** Most tokens one set may hold (64 MiB of ids; GPTQ's usual set is 128 × 2048 = 262144). */
    public static final long MAX_TOKENS = 1L << 24;
    /** Extra tokens encoded past the window, so its last tokens see the text that follows (BPE merges are local). */
    private static final int LOOKAHEAD = 8;

    private final Corpus corpus;
    private final Tokenizer tokenizer;

    public CorpusSampler(Corpus corpus, Tokenizer tokenizer) {
        this.corpus = corpus;
        this.tokenizer = tokenizer;
    }

    /**
     * L when none is asked for: half the context, at most 2048 — GPTQ's 2048 for contexts of 4096 and more, and 256
     * for stories260K (context 512, the window its perplexity is measured at).
     */
    public static int defaultSeqLen(int context) {
        return Math.max(2, Math.min(MAX_SEQ_LEN, context / 2));
    }

    public CalibrationSet sample(int n, int seqLen, long seed) {
        return sample(n, seqLen, seed, Cancellation.NONE);
    }

    public CalibrationSet sample(int n, int seqLen, long seed, Cancellation cancel) {
        checkSize(n, seqLen);
        int[][] sequences = new int[n][];
        long[] offsets = new long[n];
        for (int i = 0; i < n; i++) {
            cancel.check();
            int start = wordStart(corpus.text(), (int) Long.remainderUnsigned(mix(seed, i), corpus.text().length()));
            offsets[i] = start;
            sequences[i] = window(start, seqLen);
        }
        return new CalibrationSet(corpus.names(), seed, seqLen, sequences, offsets);
    }

    /** Rejects a set that is empty, has windows of fewer than 2 tokens or holds more than {@link #MAX_TOKENS}. */
    public static void checkSize(int n, int seqLen) {
        if (n < 1) throw new IllegalArgumentException("samples must be >= 1, got " + n);
        if (seqLen < 2) throw new IllegalArgumentException("seq_len must be >= 2, got " + seqLen);
        if ((long) n * seqLen > MAX_TOKENS) {
            throw new IllegalArgumentException("samples × seq_len = " + (long) n * seqLen + " tokens, more than "
                    + MAX_TOKENS);
        }
    }

    int[] window(int start, int seqLen) {
        int bos = tokenizer.bosId();
        int want = bos >= 0 ? seqLen - 1 : seqLen;
        String text = corpus.text();
        for (long chars = 4L * seqLen + 64; ; chars *= 2) {
            boolean whole = chars >= text.length();
            int[] toks = tokenizer.encode(slice(text, start, (int) Math.min(chars, text.length())));
            if (toks.length >= want + LOOKAHEAD || whole && toks.length >= want) {
                int[] seq = new int[seqLen];
                int at = 0;
                if (bos >= 0) seq[at++] = bos;
                System.arraycopy(toks, 0, seq, at, want);
                return seq;
            }
            if (whole) {
                throw new IllegalArgumentException("corpora " + corpus.names() + " encode to " + toks.length
                        + " tokens, fewer than seq_len " + seqLen);
            }
        }
    }

    /** {@code chars} characters from {@code start}, continuing at the beginning of the text. */
    private static String slice(String text, int start, int chars) {
        int end = start + chars;
        if (end <= text.length()) return text.substring(start, end);
        return text.substring(start) + text.substring(0, end - text.length());
    }

    /** The first word start at or after {@code from}: a non-space character after a space (or at 0). */
    static int wordStart(String text, int from) {
        int len = text.length();
        for (int k = 0; k < len; k++) {
            int p = (from + k) % len;
            if (!Character.isWhitespace(text.charAt(p)) && (p == 0 || Character.isWhitespace(text.charAt(p - 1)))) {
                return p;
            }
        }
        throw new IllegalArgumentException("corpus text has no words");
    }

    /** SplitMix64 of the seed's stream at index i: a fixed, documented generator, stable across JDKs. */
    static long mix(long seed, long i) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
