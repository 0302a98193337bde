package io.quantmesh.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The RWKV "world" tokenizer (rwkv_vocab_v20230424.txt, 65,529 tokens): each line is {@code id repr len}, where
 * repr is a Python str or bytes literal and len its length in bytes. Encoding is greedy: from each position the
 * longest vocabulary entry that matches the UTF-8 bytes wins (a byte trie). Every single byte must be in the
 * vocabulary, so any text encodes. Should two ids carry the same bytes, encoding uses the lower one.
 *
 * <p>Id 0 is {@code <|endoftext|>}, implicit in the file: it separates documents, and RWKV's own evaluation
 * scripts prepend it to a context, so it is both {@link #bosId()} and {@link #eosId()}.
 */
public final class RwkvWorldTokenizer implements Tokenizer {
    public static final String VOCAB_FILE = "rwkv_vocab_v20230424.txt";
    public static final long MAX_FILE_BYTES = 64L << 20;
    static final int MAX_ID = (1 << 24) - 1;
    static final int MAX_TOKEN_BYTES = 1024;
    private static final byte[] EMPTY = new byte[0];

    private final byte[][] tokens; // id → bytes, null for an unused id
    private final LongLongMap edges = new LongLongMap(1 << 16); // (node << 8 | byte) → child node
    private int[] terminal = new int[1 << 16]; // node → token id ending there, or -1
    private int nodes = 1;

    private RwkvWorldTokenizer(byte[][] tokens) {
        this.tokens = tokens;
        Arrays.fill(terminal, -1);
        for (int id = 0; id < tokens.length; id++) if (tokens[id] != null) insert(tokens[id], id);
    }

    /** Reads a world vocabulary file, or the {@value #VOCAB_FILE} in a directory. */
    public static RwkvWorldTokenizer load(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve(VOCAB_FILE) : path;
        if (!Files.isRegularFile(file)) throw new java.nio.file.NoSuchFileException(file.toString());
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new TokenizerFormatException(file + " is " + size + " bytes, more than the " + MAX_FILE_BYTES + " allowed");
        }
        try {
            return parse(Files.readAllBytes(file));
        } catch (TokenizerFormatException e) {
            throw new TokenizerFormatException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses the contents of a world vocabulary file. */
    public static RwkvWorldTokenizer parse(byte[] content) throws TokenizerFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(content)).toString();
        } catch (CharacterCodingException e) {
            throw new TokenizerFormatException("world vocabulary is not UTF-8 text", e);
        }
        byte[][] byId = new byte[1 << 16][];
        int maxId = 0;
        int lineNo = 0;
        for (String line : text.split("\n", -1)) {
            lineNo++;
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            if (line.isBlank()) continue;
            int first = line.indexOf(' ');
            int last = line.lastIndexOf(' ');
            if (first < 0 || last <= first) throw new TokenizerFormatException("line " + lineNo + ": expected \"id repr length\"");
            try {
                int id = number(line.substring(0, first), "id", 1, MAX_ID);
                int length = number(line.substring(last + 1), "length", 1, MAX_TOKEN_BYTES);
                byte[] bytes = PythonLiteral.parse(line.substring(first + 1, last));
                if (bytes.length != length) {
                    throw new IllegalArgumentException("literal is " + bytes.length + " bytes, the line says " + length);
                }
                if (id >= byId.length) byId = Arrays.copyOf(byId, Math.max(id + 1, byId.length * 2));
                if (byId[id] != null) throw new IllegalArgumentException("id " + id + " defined twice");
                byId[id] = bytes;
                maxId = Math.max(maxId, id);
            } catch (IllegalArgumentException e) {
                throw new TokenizerFormatException("line " + lineNo + ": " + e.getMessage(), e);
            }
        }
        RwkvWorldTokenizer t = new RwkvWorldTokenizer(Arrays.copyOf(byId, maxId + 1));
        for (int b = 0; b < 256; b++) {
            int node = t.child(0, b);
            if (node < 0 || t.terminal[node] < 0) {
                throw new TokenizerFormatException(String.format("no token for the single byte 0x%02X: some texts could not be encoded", b));
            }
        }
        return t;
    }

    private static int number(String s, String what, int min, int max) {
        long v;
        try {
            v = s.length() > 12 ? Long.MAX_VALUE : Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " \"" + s + "\" is not a number");
        }
        if (v < min || v > max) throw new IllegalArgumentException(what + " " + s + " outside [" + min + ", " + max + "]");
        return (int) v;
    }

    @Override
    public int vocabSize() {
        return tokens.length;
    }

    @Override
    public int bosId() {
        return 0;
    }

    @Override
    public int eosId() {
        return 0;
    }

    @Override
    public int[] encode(String text) {
        byte[] src = Utf8.encode(text);
        IntList out = new IntList();
        int i = 0;
        while (i < src.length) {
            int node = 0;
            int bestId = -1;
            int bestEnd = i;
            for (int j = i; j < src.length; j++) {
                node = child(node, src[j] & 0xFF);
                if (node < 0) break;
                if (terminal[node] >= 0) {
                    bestId = terminal[node];
                    bestEnd = j + 1;
                }
            }
            out.add(bestId); // every single byte is a token (checked at load), so bestEnd > i
            i = bestEnd;
        }
        return out.toArray();
    }

    @Override
    public byte[] decodeBytes(int previous, int token) {
        if (token < 0 || token >= tokens.length) {
            throw new IllegalArgumentException("token id " + token + " outside [0, " + tokens.length + ")");
        }
        byte[] b = tokens[token];
        return b == null ? EMPTY : b.clone();
    }

    /** Decodes a sequence to text (malformed UTF-8 becomes U+FFFD). */
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int id : ids) out.writeBytes(decodeBytes(-1, id));
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The token's text when it is whole UTF-8, else its bytes as \xNN escapes; id 0 is "&lt;|endoftext|&gt;". */
    @Override
    public String piece(int token) {
        byte[] b = decodeBytes(-1, token);
        if (token == 0) return "<|endoftext|>";
        if (Utf8.isValid(b)) return new String(b, StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder();
        for (byte x : b) sb.append(String.format("\\x%02x", x & 0xFF));
        return sb.toString();
    }

    private int child(int node, int b) {
        return (int) edges.get(((long) node << 8) | b, -1);
    }

    private void insert(byte[] bytes, int id) {
        int node = 0;
        for (byte x : bytes) {
            int next = child(node, x & 0xFF);
            if (next < 0) {
                next = nodes++;
                if (next >= terminal.length) {
                    int old = terminal.length;
                    terminal = Arrays.copyOf(terminal, old * 2);
                    Arrays.fill(terminal, old, terminal.length, -1);
                }
                edges.put(((long) node << 8) | (x & 0xFF), next);
            }
            node = next;
        }
        if (terminal[node] < 0) terminal[node] = id; // the same bytes twice: the lower id is the one encoded
    }
}
