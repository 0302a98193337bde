package io.quantmesh.core.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.quantmesh.core.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Hugging Face {@code tokenizer.json} with a BPE model (Llama 2, Mistral, Llama 3, Qwen 2/3, GPT-2 style):
 * added tokens are cut out first, then each remaining section is normalized, pre-tokenized into words and
 * BPE-encoded. Token for token it matches the reference encoder (transformers.js's tokenizers, as packaged by
 * {@code @lenml/tokenizers}) on the evaluation texts; see docs/TOKENIZERS.md for the supported components and
 * the few places where it follows HF tokenizers (Rust) instead.
 *
 * <p>BOS/EOS come from {@code tokenizer_config.json} beside the file when it names them, else from the
 * post-processor's template, else from well-known added tokens.
 */
public final class HfTokenizer implements Tokenizer {
    /** Larger than any real tokenizer.json (Qwen's is 11 MB, Gemma's ~34 MB). */
    public static final long MAX_FILE_BYTES = 256L << 20;
    private static final List<String> BOS_NAMES = List.of("<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>");
    private static final List<String> EOS_NAMES = List.of("</s>", "<|end_of_text|>", "<eos>", "<|endoftext|>");

    private final BpeModel model;
    private final AddedTokenSplitter splitter;
    private final TextNormalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final PieceDecoder decoder;
    private final byte[][] pieceBytes;
    private final int bosId;
    private final int eosId;

    private HfTokenizer(JsonNode root, JsonNode config) {
        if (!root.isObject()) throw JsonFields.bad("tokenizer.json", "an object", root);
        List<AddedToken> added = new ArrayList<>();
        JsonNode addedNode = root.get("added_tokens");
        if (addedNode != null && !addedNode.isNull()) {
            if (!addedNode.isArray()) throw JsonFields.bad("added_tokens", "an array", addedNode);
            for (int i = 0; i < addedNode.size(); i++) added.add(AddedToken.fromJson(addedNode.get(i), "added_tokens[" + i + "]"));
        }
        model = new BpeModel(JsonFields.object(root, "model", "tokenizer.json"), added);
        splitter = new AddedTokenSplitter(added);
        normalizer = TextNormalizer.fromJson(root.get("normalizer"), "normalizer", 0);
        preTokenizer = PreTokenizer.fromJson(root.get("pre_tokenizer"), "pre_tokenizer", 0);
        decoder = new PieceDecoder(root.get("decoder"));
        pieceBytes = new byte[model.size()][];
        for (int id = 0; id < pieceBytes.length; id++) {
            String t = model.token(id);
            pieceBytes[id] = t == null ? new byte[0] : decoder.bytes(t);
        }
        bosId = special(config, "bos_token", root.get("post_processor"), true);
        eosId = special(config, "eos_token", root.get("post_processor"), false);
    }

    /** Loads {@code tokenizer.json} (a file, or a directory holding one) and tokenizer_config.json beside it. */
    public static HfTokenizer load(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        byte[] json = readBounded(file);
        Path configFile = file.resolveSibling("tokenizer_config.json");
        byte[] config = Files.isRegularFile(configFile) ? readBounded(configFile) : null;
        try {
            return parse(json, config);
        } catch (TokenizerFormatException e) {
            throw new TokenizerFormatException(file + ": " + e.getMessage(), e);
        }
    }

    /** Builds a tokenizer from the bytes of tokenizer.json and (optionally, may be null) tokenizer_config.json. */
    public static HfTokenizer parse(byte[] tokenizerJson, byte[] tokenizerConfigJson) throws TokenizerFormatException {
        JsonNode root = readJson(tokenizerJson, "tokenizer.json");
        JsonNode config = tokenizerConfigJson == null ? null : readJson(tokenizerConfigJson, "tokenizer_config.json");
        try {
            return new HfTokenizer(root, config);
        } catch (IllegalArgumentException e) {
            throw new TokenizerFormatException(e.getMessage(), e);
        }
    }

    @Override
    public int vocabSize() {
        return model.size();
    }

    @Override
    public int bosId() {
        return bosId;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int[] encode(String text) {
        List<AddedTokenSplitter.Section> sections = splitter.split(text);
        IntList out = new IntList();
        List<String> words = new ArrayList<>();
        for (int i = 0; i < sections.size(); i++) {
            AddedTokenSplitter.Section s = sections.get(i);
            if (s.token() != null) {
                out.add(s.token().id());
                continue;
            }
            String x = s.text();
            if (x.isEmpty()) continue;
            if (normalizer != null) x = normalizer.normalize(x);
            if (x.isEmpty()) continue;
            words.clear();
            if (preTokenizer != null) preTokenizer.split(x, i == 0, words);
            else words.add(x);
            model.encode(words, out);
        }
        return out.toArray();
    }

    /**
     * The bytes of {@code token}; a first token (previous &lt; 0 or BOS) loses the decoder's leading strip (the
     * space SentencePiece-style tokenizers prepend). Byte-fallback tokens give raw bytes, possibly partial UTF-8.
     */
    @Override
    public byte[] decodeBytes(int previous, int token) {
        checkId(token);
        byte[] b = pieceBytes[token];
        return previous < 0 || previous == bosId ? decoder.stripFirst(b) : b;
    }

    /** Decodes a whole sequence to text (malformed UTF-8 becomes U+FFFD). */
    public String decode(int[] tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int prev = -1;
        for (int t : tokens) {
            out.writeBytes(decodeBytes(prev, t));
            prev = t;
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The decoded text of the token when it is whole UTF-8, else its vocabulary string (e.g. "&lt;0xE2&gt;"). */
    @Override
    public String piece(int token) {
        checkId(token);
        byte[] b = pieceBytes[token];
        String raw = model.token(token);
        if (raw == null) return "";
        return Utf8.isValid(b) ? new String(b, StandardCharsets.UTF_8) : raw;
    }

    /** The vocabulary string of an id ("▁the", "Ġthe", "&lt;0x0A&gt;"), or null for an unused id. */
    public String token(int id) {
        checkId(id);
        return model.token(id);
    }

    /** The id of a vocabulary or added-token string, or -1. */
    public int tokenId(String token) {
        return model.id(token);
    }

    private void checkId(int token) {
        if (token < 0 || token >= model.size()) {
            throw new IllegalArgumentException("token id " + token + " outside [0, " + model.size() + ")");
        }
    }

    // ---- BOS / EOS discovery ------------------------------------------------------------------------------------

    private int special(JsonNode config, String key, JsonNode postProcessor, boolean bos) {
        if (config != null && config.has(key)) {
            JsonNode v = config.get(key);
            if (v.isNull()) return -1;
            String name = v.isTextual() ? v.textValue() : v.path("content").textValue(); // "<s>" or {"content": "<s>"}
            if (name == null) throw JsonFields.bad("tokenizer_config.json " + key, "a string, an AddedToken or null", v);
            int id = model.id(name);
            if (id < 0) throw new IllegalArgumentException("tokenizer_config.json " + key + " \"" + name + "\" is not a token");
            return id;
        }
        int id = fromPostProcessor(postProcessor, bos, 0);
        if (id >= 0) return id;
        for (String name : bos ? BOS_NAMES : EOS_NAMES) {
            id = model.id(name);
            if (id >= 0) return id;
        }
        return -1;
    }

    /** TemplateProcessing: the special token before sequence A (BOS) or after it (EOS); Bert/Roberta: cls/sep. */
    private int fromPostProcessor(JsonNode pp, boolean bos, int depth) {
        if (pp == null || !pp.isObject() || depth > 8) return -1;
        switch (pp.path("type").asText("")) {
            case "TemplateProcessing" -> {
                JsonNode single = pp.path("single");
                int seq = -1;
                for (int i = 0; i < single.size(); i++) if (single.get(i).has("Sequence")) seq = seq < 0 ? i : seq;
                if (seq < 0) return -1;
                int i = bos ? seq - 1 : seq + 1;
                if (i < 0 || i >= single.size()) return -1;
                String name = single.get(i).path("SpecialToken").path("id").asText(null);
                if (name == null) return -1;
                JsonNode ids = pp.path("special_tokens").path(name).path("ids");
                return ids.isArray() && ids.size() == 1 && ids.get(0).canConvertToInt() ? checked(ids.get(0).intValue())
                        : model.id(name);
            }
            case "BertProcessing", "RobertaProcessing" -> {
                JsonNode pair = pp.path(bos ? "cls" : "sep");
                return pair.isArray() && pair.size() == 2 && pair.get(1).canConvertToInt() ? checked(pair.get(1).intValue()) : -1;
            }
            case "Sequence" -> {
                for (JsonNode p : pp.path("processors")) {
                    int id = fromPostProcessor(p, bos, depth + 1);
                    if (id >= 0) return id;
                }
                return -1;
            }
            default -> {
                return -1;
            }
        }
    }

    private int checked(int id) {
        if (id < 0 || id >= model.size()) throw new IllegalArgumentException("post_processor names token id " + id
                + " outside the vocabulary");
        return id;
    }

    // ---- bounded JSON reading -----------------------------------------------------------------------------------

    private static JsonNode readJson(byte[] bytes, String what) throws TokenizerFormatException {
        try {
            JsonNode n = Json.mapper().readTree(bytes);
            if (n == null || n.isMissingNode()) throw new TokenizerFormatException(what + " is empty");
            return n;
        } catch (JsonProcessingException e) {
            throw new TokenizerFormatException(what + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TokenizerFormatException(what + ": " + e.getMessage(), e);
        }
    }

    static byte[] readBounded(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new java.nio.file.NoSuchFileException(file.toString());
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new TokenizerFormatException(file + " is " + size + " bytes, more than the " + MAX_FILE_BYTES + " allowed");
        }
        return Files.readAllBytes(file);
    }
}
