package io.quantmesh.core.tokenizer;

/** Text ⇄ token ids. Implementations: llama2.c tokenizer.bin, Hugging Face tokenizer.json, byte-level, RWKV world. */
public interface Tokenizer {

    int vocabSize();

    /** Beginning-of-sequence id, or -1 if the vocabulary has none. */
    int bosId();

    /** End-of-sequence id, or -1 if the vocabulary has none. */
    int eosId();

    /** Encodes text without adding BOS/EOS (callers add BOS where a protocol says so). */
    int[] encode(String text);

    /**
     * The bytes {@code token} stands for when it follows {@code previous} (llama2.c strips the leading space of
     * the first piece after BOS; byte-fallback tokens such as {@code <0x0A>} become the raw byte).
     */
    byte[] decodeBytes(int previous, int token);

    /** The readable piece for a token id (for inspect/debug views). */
    String piece(int token);
}
