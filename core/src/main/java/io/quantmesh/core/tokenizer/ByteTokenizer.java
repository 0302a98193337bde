package io.quantmesh.core.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * The byte-level vocabulary of the tiny RWKV models: token id = byte value (0..255), text is encoded as UTF-8.
 * There is no BOS or EOS: every id is a real byte (rwkv.cpp feeds prompts byte by byte from the zero state).
 */
public final class ByteTokenizer implements Tokenizer {
    public static final int VOCAB = 256;
    private static final ByteTokenizer INSTANCE = new ByteTokenizer();

    private ByteTokenizer() {}

    public static ByteTokenizer instance() {
        return INSTANCE;
    }

    @Override
    public int vocabSize() {
        return VOCAB;
    }

    @Override
    public int bosId() {
        return -1;
    }

    @Override
    public int eosId() {
        return -1;
    }

    @Override
    public int[] encode(String text) {
        return encode(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Bytes as token ids (for files read as raw bytes: no decode/encode round trip). */
    public static int[] encode(byte[] bytes) {
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xff;
        return ids;
    }

    @Override
    public byte[] decodeBytes(int previous, int token) {
        return new byte[] {(byte) check(token)};
    }

    @Override
    public String piece(int token) {
        int b = check(token);
        return b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("<0x%02X>", b);
    }

    private static int check(int token) {
        if (token < 0 || token >= VOCAB) throw new IllegalArgumentException("byte token out of range: " + token);
        return token;
    }
}
