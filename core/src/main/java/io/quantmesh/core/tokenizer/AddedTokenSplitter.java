package io.quantmesh.core.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts added tokens out of raw text before anything else sees it (so normalizers and pre-tokenizers cannot break
 * "&lt;|im_end|&gt;" apart): scanning left to right, the longest added token starting at each position wins.
 */
final class AddedTokenSplitter {
    /** A piece of the input: plain text ({@code token == null}) or one added token. */
    record Section(String text, AddedToken token) {}

    private static final class Node {
        final Map<Character, Node> children = new HashMap<>(4);
        AddedToken token;
    }

    private final Node root = new Node();
    private final boolean empty;

    AddedTokenSplitter(List<AddedToken> tokens) {
        for (AddedToken t : tokens) {
            Node n = root;
            for (int i = 0; i < t.content().length(); i++) n = n.children.computeIfAbsent(t.content().charAt(i), c -> new Node());
            n.token = t;
        }
        empty = tokens.isEmpty();
    }

    List<Section> split(String text) {
        List<Section> out = new ArrayList<>();
        if (empty) {
            if (!text.isEmpty()) out.add(new Section(text, null));
            return out;
        }
        int start = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            Node node = root;
            AddedToken match = null;
            for (int j = i; j < n; j++) {
                node = node.children.get(text.charAt(j));
                if (node == null) break;
                if (node.token != null) match = node.token;
            }
            if (match == null) {
                i++;
                continue;
            }
            if (i > start) out.add(new Section(text.substring(start, i), null));
            out.add(new Section(match.content(), match));
            i += match.content().length();
            start = i;
        }
        if (start < n) out.add(new Section(text.substring(start), null));
        stripAround(out);
        return out;
    }

    /** lstrip/rstrip: an added token swallows the (JavaScript) whitespace on that side of it. */
    private static void stripAround(List<Section> sections) {
        for (int i = 0; i < sections.size(); i++) {
            AddedToken t = sections.get(i).token();
            if (t == null) continue;
            if (t.lstrip() && i > 0 && sections.get(i - 1).token() == null) {
                sections.set(i - 1, new Section(JsRegex.trimEnd(sections.get(i - 1).text()), null));
            }
            if (t.rstrip() && i + 1 < sections.size() && sections.get(i + 1).token() == null) {
                sections.set(i + 1, new Section(JsRegex.trimStart(sections.get(i + 1).text()), null));
            }
        }
    }
}
