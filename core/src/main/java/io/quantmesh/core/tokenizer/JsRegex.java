package io.quantmesh.core.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Patterns from tokenizer.json ({@code {"String": ...}} or {@code {"Regex": ...}}) compiled to java.util.regex with
 * the semantics of the reference encoder (JavaScript RegExp with the {@code u} flag): {@code \s} is JavaScript's
 * whitespace set (it includes U+FEFF and excludes U+0085, unlike Java's and Oniguruma's), {@code .} excludes only
 * the four JS line terminators, {@code \d}/{@code \w} and {@code (?i)} stay ASCII (as in the reference's rewrite of
 * {@code (?i:'s|'t|...)}). Matching runs under a step budget so that a hostile pattern with catastrophic
 * backtracking fails with an exception instead of hanging a worker.
 */
final class JsRegex {
    /** JavaScript's WhiteSpace + LineTerminator code points, as a character-class body. */
    static final String JS_SPACE_CLASS =
            "\\t\\n\\x0B\\f\\r \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF";
    private static final int MAX_PATTERN_LENGTH = 4096;

    private JsRegex() {}

    static boolean isJsSpace(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A)
                || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF;
    }

    /** JavaScript's {@code String.prototype.trimStart}. */
    static String trimStart(String s) {
        int i = 0;
        while (i < s.length() && isJsSpace(s.charAt(i))) i++;
        return s.substring(i);
    }

    /** JavaScript's {@code String.prototype.trimEnd}. */
    static String trimEnd(String s) {
        int e = s.length();
        while (e > 0 && isJsSpace(s.charAt(e - 1))) e--;
        return s.substring(0, e);
    }

    /** A literal string pattern. */
    static Pattern literal(String s) {
        if (s.isEmpty()) throw new IllegalArgumentException("empty string pattern");
        return Pattern.compile(Pattern.quote(s));
    }

    /** Compiles a tokenizer.json regex (Oniguruma/JS syntax) to an equivalent java.util.regex pattern. */
    static Pattern regex(String source) {
        if (source.length() > MAX_PATTERN_LENGTH) {
            throw new IllegalArgumentException("regex longer than " + MAX_PATTERN_LENGTH + " characters");
        }
        try {
            return Pattern.compile(translate(source));
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid regex " + quote(source) + ": " + e.getDescription(), e);
        }
    }

    static String translate(String src) {
        StringBuilder out = new StringBuilder(src.length() + 64);
        boolean inClass = false;
        int classBodyStart = -1;
        int n = src.length();
        int i = 0;
        while (i < n) {
            char c = src.charAt(i);
            if (c == '\\') {
                if (i + 1 >= n) throw new IllegalArgumentException("regex ends with a backslash: " + quote(src));
                char e = src.charAt(i + 1);
                switch (e) {
                    case 's' -> out.append(inClass ? JS_SPACE_CLASS : "[" + JS_SPACE_CLASS + "]");
                    case 'S' -> {
                        if (inClass) throw new IllegalArgumentException("\\S inside a character class is not supported: " + quote(src));
                        out.append("[^").append(JS_SPACE_CLASS).append(']');
                    }
                    case 'v' -> out.append("\\x0B"); // JS \v is the vertical tab only; Java's is a class
                    case 'u' -> out.append(i + 2 < n && src.charAt(i + 2) == '{' ? "\\x" : "\\u"); // JS \\u{...} code point escape
                    default -> out.append(c).append(e);
                }
                i += 2;
                continue;
            }
            if (inClass) {
                if (c == ']') {
                    if (i == classBodyStart) out.append("\\]"); // "[]...]": a literal ']' (Oniguruma)
                    else {
                        inClass = false;
                        out.append(']');
                    }
                } else if (c == '[') out.append("\\["); // '[' and '&&' are operators in Java classes, literals in JS
                else if (c == '&') out.append("\\&");
                else out.append(c);
                i++;
                continue;
            }
            if (c == '[') {
                inClass = true;
                out.append('[');
                i++;
                if (i < n && src.charAt(i) == '^') {
                    out.append('^');
                    i++;
                }
                classBodyStart = i;
                continue;
            }
            if (c == '.') out.append("[^\\n\\r\\u2028\\u2029]");
            else out.append(c);
            i++;
        }
        if (inClass) throw new IllegalArgumentException("unterminated character class in regex " + quote(src));
        return out.toString();
    }

    /** Non-empty, non-overlapping matches of {@code pattern} in {@code text}, as [start, end) pairs. */
    static List<int[]> matches(Pattern pattern, String text) {
        Matcher m = pattern.matcher(new Budgeted(text));
        List<int[]> result = new ArrayList<>();
        try {
            while (m.find()) if (m.end() > m.start()) result.add(new int[] {m.start(), m.end()});
        } catch (StackOverflowError e) {
            throw new IllegalArgumentException("regex " + quote(pattern.pattern()) + " recursed too deeply on a "
                    + text.length() + "-character input");
        }
        return result;
    }

    /** Replaces every match with the literal {@code content}. */
    static String replaceAll(Pattern pattern, String text, String content) {
        List<int[]> ms = matches(pattern, text);
        if (ms.isEmpty()) return text;
        StringBuilder sb = new StringBuilder(text.length() + ms.size() * content.length());
        int prev = 0;
        for (int[] m : ms) {
            sb.append(text, prev, m[0]).append(content);
            prev = m[1];
        }
        return sb.append(text, prev, text.length()).toString();
    }

    private static String quote(String s) {
        return '"' + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + '"';
    }

    /** A CharSequence that fails once the regex engine has read far more characters than any sane pattern needs. */
    private static final class Budgeted implements CharSequence {
        private final String text;
        private long budget;

        Budgeted(String text) {
            this.text = text;
            this.budget = 10_000_000L + 512L * text.length();
        }

        private Budgeted(String text, long budget) {
            this.text = text;
            this.budget = budget;
        }

        @Override
        public char charAt(int index) {
            if (--budget < 0) {
                throw new IllegalArgumentException("regex exceeded its matching budget on a " + text.length()
                        + "-character input (catastrophic backtracking?)");
            }
            return text.charAt(index);
        }

        @Override
        public int length() {
            return text.length();
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Budgeted(text.substring(start, end), budget);
        }

        @Override
        public String toString() {
            return text;
        }
    }
}
