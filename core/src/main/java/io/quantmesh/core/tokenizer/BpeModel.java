package io.quantmesh.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The "BPE" model of a tokenizer.json: a vocabulary, ranked merges, and what to emit for characters the vocabulary
 * lacks (byte-fallback {@code <0xNN>} tokens, else the unk token, else nothing).
 *
 * <p>A word is encoded by repeatedly applying the lowest-ranked merge among adjacent symbols, leftmost first on a
 * tie (HF tokenizers and the reference agree on this order). Symbols live in a linked list over arrays and
 * candidate merges in a binary heap keyed (rank, left position), so a word of n characters costs O(n log n): the
 * Llama 2 tokenizer has no pre-tokenizer and feeds a whole 1.3 MB text to BPE as one word. Words shorter than
 * {@value #MAX_CACHED_WORD} characters are cached.
 */
final class BpeModel {
    static final int MAX_ID = (1 << 22) - 1;
    private static final int MAX_CACHED_WORD = 256;
    private static final int CACHE_CAPACITY = 100_000;
    private static final long NO_MERGE = -1L;

    private final String[] tokens;
    private final Map<String, Integer> ids;
    private final int[] bmpIds;
    private final Map<Integer, Integer> supplementaryIds = new HashMap<>();
    private final LongLongMap merges;
    private final int[] byteIds = new int[256];
    private final boolean allBytes;
    private final int unkId;
    private final boolean byteFallback;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /** {@code added}: the added tokens, which join (and override) the vocabulary as in the reference. */
    BpeModel(JsonNode model, List<AddedToken> added) {
        String where = "model";
        String type = JsonFields.optText(model, "type", where);
        if (type != null && !type.equals("BPE")) {
            throw new IllegalArgumentException("model.type \"" + type + "\" is not supported (only BPE)");
        }
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && (!dropout.isNumber() || dropout.doubleValue() != 0.0)) {
            throw new IllegalArgumentException("model.dropout must be null: BPE dropout makes encoding random");
        }
        for (String affix : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            String v = JsonFields.optText(model, affix, where);
            if (v != null && !v.isEmpty()) {
                throw new IllegalArgumentException("model." + affix + " \"" + v + "\" is not supported");
            }
        }
        byteFallback = JsonFields.bool(model, "byte_fallback", false, where);
        fuseUnk = JsonFields.bool(model, "fuse_unk", false, where);
        ignoreMerges = JsonFields.bool(model, "ignore_merges", false, where);

        JsonNode vocab = JsonFields.object(model, "vocab", where);
        ids = new HashMap<>(vocab.size() * 2);
        int maxId = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0 || v.intValue() > MAX_ID) {
                throw new IllegalArgumentException("model.vocab[\"" + clip(e.getKey()) + "\"]: id must be an integer in [0, "
                        + MAX_ID + "], got " + v);
            }
            ids.put(e.getKey(), v.intValue());
            maxId = Math.max(maxId, v.intValue());
        }
        for (AddedToken t : added) maxId = Math.max(maxId, t.id());
        tokens = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : ids.entrySet()) {
            if (tokens[e.getValue()] != null) {
                throw new IllegalArgumentException("model.vocab: tokens \"" + clip(tokens[e.getValue()]) + "\" and \""
                        + clip(e.getKey()) + "\" share id " + e.getValue());
            }
            tokens[e.getValue()] = e.getKey();
        }
        for (AddedToken t : added) {
            ids.put(t.content(), t.id());
            tokens[t.id()] = t.content();
        }

        bmpIds = new int[0x10000];
        java.util.Arrays.fill(bmpIds, -1);
        for (int id = 0; id < tokens.length; id++) {
            String s = tokens[id];
            if (s == null || s.isEmpty() || s.codePointCount(0, s.length()) != 1) continue;
            int cp = s.codePointAt(0);
            if (cp < 0x10000) bmpIds[cp] = id;
            else supplementaryIds.put(cp, id);
        }

        JsonNode list = JsonFields.array(model, "merges", where);
        merges = new LongLongMap(list.size());
        for (int rank = 0; rank < list.size(); rank++) {
            JsonNode m = list.get(rank);
            String left;
            String right;
            if (m.isTextual()) { // "a b": tokenizers < 0.20
                String[] parts = m.textValue().split(" ", -1);
                if (parts.length != 2) {
                    throw new IllegalArgumentException("model.merges[" + rank + "] \"" + clip(m.textValue())
                            + "\": expected two tokens separated by one space");
                }
                left = parts[0];
                right = parts[1];
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).textValue();
                right = m.get(1).textValue();
            } else {
                throw JsonFields.bad("model.merges[" + rank + "]", "\"a b\" or [\"a\", \"b\"]", m);
            }
            Integer l = ids.get(left);
            Integer r = ids.get(right);
            Integer merged = ids.get(left + right);
            if (l == null || r == null || merged == null) {
                throw new IllegalArgumentException("model.merges[" + rank + "] (\"" + clip(left) + "\", \"" + clip(right)
                        + "\"): " + (l == null ? "left token" : r == null ? "right token" : "merged token")
                        + " is not in the vocabulary");
            }
            merges.put(((long) l << 32) | r, ((long) rank << 32) | merged); // a repeated pair keeps its last rank
        }

        boolean all = true;
        for (int b = 0; b < 256; b++) {
            Integer id = ids.get(String.format("<0x%02X>", b));
            byteIds[b] = id == null ? -1 : id;
            all &= id != null;
        }
        allBytes = all;
        String unk = JsonFields.optText(model, "unk_token", where);
        if (unk != null && !ids.containsKey(unk)) {
            throw new IllegalArgumentException("model.unk_token \"" + clip(unk) + "\" is not in the vocabulary");
        }
        unkId = unk == null ? -1 : ids.get(unk);
    }

    /** Ids run from 0 to size() - 1 (an id may be a gap with no token). */
    int size() {
        return tokens.length;
    }

    String token(int id) {
        return id >= 0 && id < tokens.length ? tokens[id] : null;
    }

    int id(String token) {
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    int unkId() {
        return unkId;
    }

    /** Encodes the pre-tokenized words of one section, appending ids; runs of unk fuse when fuse_unk is set. */
    void encode(List<String> words, IntList out) {
        int start = out.size();
        for (String w : words) encodeWord(w, out);
        if (fuseUnk && unkId >= 0) fuseUnkRuns(out, start);
    }

    private void encodeWord(String word, IntList out) {
        if (word.isEmpty()) return;
        if (ignoreMerges) {
            Integer id = ids.get(word);
            if (id != null) {
                out.add(id);
                return;
            }
        }
        boolean cacheable = word.length() < MAX_CACHED_WORD;
        if (cacheable) {
            int[] hit = cache.get(word);
            if (hit != null) {
                out.addAll(hit);
                return;
            }
        }
        IntList ids = new IntList();
        merge(word, ids);
        if (cacheable) {
            if (cache.size() >= CACHE_CAPACITY) cache.clear();
            cache.put(word, ids.toArray());
        }
        out.addAll(ids.toArray());
    }

    private void merge(String word, IntList out) {
        int n = word.codePointCount(0, word.length());
        int[] cps = new int[n];
        int[] sym = new int[n];   // token id of the symbol starting at position i, -1 when unknown
        int[] next = new int[n];  // next live position or -1
        int[] prev = new int[n];
        boolean[] alive = new boolean[n];
        for (int i = 0, off = 0; i < n; i++) {
            int cp = word.codePointAt(off);
            off += Character.charCount(cp);
            cps[i] = cp;
            sym[i] = cp < 0x10000 ? bmpIds[cp] : supplementaryIds.getOrDefault(cp, -1);
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
            alive[i] = true;
        }

        Heap heap = new Heap(n);
        for (int i = 0; i + 1 < n; i++) pushCandidate(heap, sym, i, i + 1);
        while (!heap.isEmpty()) {
            long entry = heap.pop();
            int rank = (int) (entry >>> 32);
            int left = (int) entry;
            int right = alive[left] ? next[left] : -1;
            if (right < 0) continue;
            long m = pair(sym[left], sym[right]);
            if (m == NO_MERGE || (int) (m >>> 32) != rank) continue; // stale: a neighbour merged meanwhile
            sym[left] = (int) m;
            alive[right] = false;
            next[left] = next[right];
            if (next[left] >= 0) prev[next[left]] = left;
            if (prev[left] >= 0) pushCandidate(heap, sym, prev[left], left);
            if (next[left] >= 0) pushCandidate(heap, sym, left, next[left]);
        }

        for (int i = 0; i >= 0; i = next[i]) {
            if (sym[i] >= 0) out.add(sym[i]);
            else emitUnknown(cps[i], out);
        }
    }

    private void emitUnknown(int cp, IntList out) {
        if (byteFallback && (allBytes || hasBytesFor(cp))) {
            for (byte b : Utf8.encode(Character.toString(cp))) out.add(byteIds[b & 0xFF]);
        } else if (unkId >= 0) {
            out.add(unkId);
        } // no unk token: the character is dropped, as HF tokenizers does
    }

    private boolean hasBytesFor(int cp) {
        for (byte b : Utf8.encode(Character.toString(cp))) if (byteIds[b & 0xFF] < 0) return false;
        return true;
    }

    private void pushCandidate(Heap heap, int[] sym, int left, int right) {
        long m = pair(sym[left], sym[right]);
        if (m != NO_MERGE) heap.push(((m >>> 32) << 32) | left);
    }

    private long pair(int left, int right) {
        if (left < 0 || right < 0) return NO_MERGE;
        return merges.get(((long) left << 32) | right, NO_MERGE);
    }

    private void fuseUnkRuns(IntList out, int start) {
        int w = start;
        for (int i = start; i < out.size(); i++) {
            int id = out.get(i);
            if (id == unkId && w > start && out.get(w - 1) == unkId) continue;
            out.set(w++, id);
        }
        out.truncate(w);
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    /** Min-heap of longs (rank << 32 | position): the lowest rank first, the leftmost on a tie. */
    private static final class Heap {
        private long[] a;
        private int size;

        Heap(int capacity) {
            a = new long[Math.max(16, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void push(long v) {
            if (size == a.length) a = java.util.Arrays.copyOf(a, a.length * 2);
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) break;
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long v = a[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int c = 2 * i + 1;
                if (c + 1 < size && a[c + 1] < a[c]) c++;
                if (v <= a[c]) break;
                a[i] = a[c];
                i = c;
            }
            a[i] = v;
            return top;
        }
    }
}
