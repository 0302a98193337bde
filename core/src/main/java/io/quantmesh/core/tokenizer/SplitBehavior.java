package io.quantmesh.core.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * What a splitting pre-tokenizer does with the delimiters it finds, as in Hugging Face tokenizers'
 * {@code SplitDelimiterBehavior}. Example, text "a--b" split on "-": REMOVED [a, b]; ISOLATED [a, -, -, b];
 * MERGED_WITH_PREVIOUS [a-, -, b]; MERGED_WITH_NEXT [a, -, -b]; CONTIGUOUS [a, --, b].
 */
enum SplitBehavior {
    REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

    static SplitBehavior fromJson(String name) {
        return switch (name) {
            case "Removed" -> REMOVED;
            case "Isolated" -> ISOLATED;
            case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> MERGED_WITH_NEXT;
            case "Contiguous" -> CONTIGUOUS;
            default -> throw new IllegalArgumentException("unknown split behavior \"" + name + "\"");
        };
    }

    /**
     * Splits {@code text} given its delimiter matches (sorted, non-overlapping, non-empty [start, end) pairs);
     * with {@code invert} the matches are the pieces and the text between them the delimiters. Empty pieces are
     * dropped.
     */
    List<String> split(String text, List<int[]> matches, boolean invert) {
        // Segments covering the text: {start, end, isDelimiter}.
        List<int[]> segments = new ArrayList<>(matches.size() * 2 + 1);
        int prev = 0;
        for (int[] m : matches) {
            if (m[0] > prev) segments.add(new int[] {prev, m[0], invert ? 1 : 0});
            segments.add(new int[] {m[0], m[1], invert ? 0 : 1});
            prev = m[1];
        }
        if (prev < text.length()) segments.add(new int[] {prev, text.length(), invert ? 1 : 0});

        List<int[]> pieces = new ArrayList<>(segments.size());
        switch (this) {
            case REMOVED -> {
                for (int[] s : segments) if (s[2] == 0) pieces.add(s);
            }
            case ISOLATED -> pieces.addAll(segments);
            case MERGED_WITH_PREVIOUS -> {
                boolean previousDelimiter = false;
                for (int[] s : segments) {
                    boolean delimiter = s[2] == 1;
                    if (delimiter && !previousDelimiter && !pieces.isEmpty()) pieces.getLast()[1] = s[1];
                    else pieces.add(s.clone());
                    previousDelimiter = delimiter;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean nextDelimiter = false;
                for (int i = segments.size() - 1; i >= 0; i--) {
                    int[] s = segments.get(i);
                    boolean delimiter = s[2] == 1;
                    if (delimiter && !nextDelimiter && !pieces.isEmpty()) pieces.getLast()[0] = s[0];
                    else pieces.add(s.clone());
                    nextDelimiter = delimiter;
                }
                java.util.Collections.reverse(pieces);
            }
            case CONTIGUOUS -> {
                boolean previousDelimiter = false;
                for (int[] s : segments) {
                    boolean delimiter = s[2] == 1;
                    if (delimiter == previousDelimiter && !pieces.isEmpty()) pieces.getLast()[1] = s[1];
                    else pieces.add(s.clone());
                    previousDelimiter = delimiter;
                }
            }
        }
        List<String> out = new ArrayList<>(pieces.size());
        for (int[] p : pieces) if (p[1] > p[0]) out.add(text.substring(p[0], p[1]));
        return out;
    }
}
