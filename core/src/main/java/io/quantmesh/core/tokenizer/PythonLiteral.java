package io.quantmesh.core.tokenizer;

import java.io.ByteArrayOutputStream;

/**
 * Parses the one-line Python string and bytes literals that {@code repr()} writes ({@code 'a'}, {@code "it's"},
 * {@code '\x85'}, {@code b'\xe4\xbd'}) into the bytes they stand for (str literals as UTF-8), as the RWKV world
 * vocabulary stores its tokens. Only literal syntax is accepted, never arbitrary expressions.
 */
final class PythonLiteral {
    private PythonLiteral() {}

    static byte[] parse(String literal) {
        String s = literal.strip();
        int i = 0;
        boolean bytes = false;
        if (i < s.length() && (s.charAt(i) == 'b' || s.charAt(i) == 'B')) {
            bytes = true;
            i++;
        } else if (i < s.length() && (s.charAt(i) == 'u' || s.charAt(i) == 'U')) {
            i++;
        }
        if (i >= s.length() || (s.charAt(i) != '\'' && s.charAt(i) != '"')) {
            throw new IllegalArgumentException("not a Python string or bytes literal: " + clip(s));
        }
        char quote = s.charAt(i++);
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        StringBuilder text = new StringBuilder(); // str literals: collected as UTF-16, encoded at the end
        while (true) {
            if (i >= s.length()) throw new IllegalArgumentException("unterminated literal: " + clip(s));
            char c = s.charAt(i++);
            if (c == quote) break;
            if (c != '\\') {
                if (bytes && c > 0x7F) throw new IllegalArgumentException("non-ASCII character in bytes literal: " + clip(s));
                if (bytes) out.write(c);
                else text.append(c);
                continue;
            }
            if (i >= s.length()) throw new IllegalArgumentException("unterminated literal: " + clip(s));
            char e = s.charAt(i++);
            int value;
            switch (e) {
                case '\\', '\'', '"' -> value = e;
                case 'a' -> value = 7;
                case 'b' -> value = 8;
                case 'f' -> value = 12;
                case 'n' -> value = 10;
                case 'r' -> value = 13;
                case 't' -> value = 9;
                case 'v' -> value = 11;
                case 'x' -> {
                    value = hex(s, i, 2);
                    i += 2;
                }
                case 'u', 'U' -> {
                    if (bytes) { // not an escape in bytes literals: a backslash and the letter
                        out.write('\\');
                        value = e;
                        break;
                    }
                    int digits = e == 'u' ? 4 : 8;
                    value = hex(s, i, digits);
                    i += digits;
                    if (value < 0 || value > Character.MAX_CODE_POINT) throw new IllegalArgumentException("escape beyond U+10FFFF: " + clip(s));
                }
                case 'N' -> throw new IllegalArgumentException("named \\N{...} escapes are not supported: " + clip(s));
                default -> {
                    if (e >= '0' && e <= '7') {
                        value = e - '0';
                        for (int k = 0; k < 2 && i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '7'; k++) {
                            value = value * 8 + (s.charAt(i++) - '0');
                        }
                    } else { // Python keeps unknown escapes verbatim
                        if (bytes) out.write('\\');
                        else text.append('\\');
                        value = e;
                    }
                }
            }
            if (bytes) {
                if (value > 0xFF) throw new IllegalArgumentException("byte value " + value + " in bytes literal: " + clip(s));
                out.write(value);
            } else {
                text.appendCodePoint(value);
            }
        }
        if (i != s.length()) throw new IllegalArgumentException("text after the literal: " + clip(s));
        if (bytes) return out.toByteArray();
        String str = text.toString();
        for (int k = 0; k < str.length(); k++) {
            char c = str.charAt(k);
            boolean paired = Character.isHighSurrogate(c) && k + 1 < str.length() && Character.isLowSurrogate(str.charAt(k + 1));
            if (paired) k++;
            else if (Character.isSurrogate(c)) throw new IllegalArgumentException("lone surrogate (not UTF-8 encodable): " + clip(s));
        }
        return str.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static int hex(String s, int from, int digits) {
        if (from + digits > s.length()) throw new IllegalArgumentException("truncated escape: " + clip(s));
        int v = 0;
        for (int k = 0; k < digits; k++) {
            int d = Character.digit(s.charAt(from + k), 16);
            if (d < 0) throw new IllegalArgumentException("bad hex escape: " + clip(s));
            v = v * 16 + d;
        }
        return v;
    }

    private static String clip(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
