package io.quantmesh.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No world vocabulary ships in shared/ or in any npm package found, so these tests use a constructed file in the
 * real format (single bytes at ids 1..256 as in rwkv_vocab_v20230424.txt, then a few multi-byte tokens written
 * the ways Python's repr writes them) with encodings derived by hand from greedy longest match.
 */
class RwkvWorldTokenizerTest {

    /** Ids 1..256: byte b at id b + 1, as in the real file; then the tokens below. */
    static String vocab(boolean withByteA) {
        StringBuilder sb = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            if (!withByteA && b == 'A') continue;
            String repr;
            if (b >= 0x80) repr = String.format("b'\\x%02x'", b);
            else if (b == '\'') repr = "\"'\"";
            else if (b == '\\') repr = "'\\\\'";
            else if (b >= 0x20 && b < 0x7F) repr = "'" + (char) b + "'";
            else if (b == '\n') repr = "'\\n'";
            else repr = String.format("'\\x%02x'", b);
            sb.append(b + 1).append(' ').append(repr).append(" 1\n");
        }
        sb.append("""
                257 'th' 2
                258 'the' 3
                259 ' the' 4
                260 "it's" 4
                261 '\\n\\n' 2
                262 '你好' 6
                263 b'\\xe4\\xbd' 2
                264 '\\u4e16\\u754c' 6
                266 'ab\\\\c' 4
                267 '\\'q\\'' 3
                268 '"' 1
                269 '\\U0001f600' 4
                270 'he' 2
                """);
        return sb.toString();
    }

    static RwkvWorldTokenizer tokenizer() throws TokenizerFormatException {
        return RwkvWorldTokenizer.parse(vocab(true).getBytes(StandardCharsets.UTF_8));
    }

    static int b(char c) {
        return c + 1;
    }

    @Test
    void greedyLongestMatchOverBytes() throws Exception {
        RwkvWorldTokenizer t = tokenizer();
        assertArrayEquals(new int[] {258}, t.encode("the"));
        assertArrayEquals(new int[] {259}, t.encode(" the"));
        assertArrayEquals(new int[] {258, b('n')}, t.encode("then"));
        assertArrayEquals(new int[] {260}, t.encode("it's"));
        assertArrayEquals(new int[] {b('i'), b('t'), b('s')}, t.encode("its"));
        assertArrayEquals(new int[] {261, b('\n')}, t.encode("\n\n\n"));
        assertArrayEquals(new int[] {262, 264}, t.encode("你好世界"));
        assertArrayEquals(new int[] {263, 0xA0 + 1}, t.encode("你"), "E4 BD A0: the 2-byte prefix token, then A0");
        assertArrayEquals(new int[] {266}, t.encode("ab\\c"));
        assertArrayEquals(new int[] {267}, t.encode("'q'"));
        assertArrayEquals(new int[] {b('"')}, t.encode("\""), "the same bytes twice: the lower id");
        assertArrayEquals(new int[] {269}, t.encode("😀"));
        assertArrayEquals(new int[] {270, 259}, t.encode("he the"));
        assertArrayEquals(new int[] {}, t.encode(""));
    }

    @Test
    void decodesBackToTheText() throws Exception {
        RwkvWorldTokenizer t = tokenizer();
        for (String s : List.of("the then it's 你好世界 你 ab\\c 'q' 😀 \u0000\u00ff\n\n\n", "é €")) {
            assertEquals(s, t.decode(t.encode(s)));
        }
        assertEquals(0, t.bosId());
        assertEquals(0, t.eosId());
        assertEquals(271, t.vocabSize());
        assertEquals(0, t.decodeBytes(5, 0).length, "<|endoftext|> has no text");
        assertEquals(0, t.decodeBytes(5, 265).length, "an unused id has no text");
        assertEquals("<|endoftext|>", t.piece(0));
        assertEquals(" the", t.piece(259));
        assertEquals("\\xe4\\xbd", t.piece(263));
        assertThrows(IllegalArgumentException.class, () -> t.decodeBytes(0, 271));
    }

    @Test
    void loadsFromADirectory(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(RwkvWorldTokenizer.VOCAB_FILE), vocab(true));
        assertArrayEquals(new int[] {258}, RwkvWorldTokenizer.load(dir).encode("the"));
        assertArrayEquals(new int[] {258}, ((RwkvWorldTokenizer) Tokenizers.load(dir, 65536)).encode("the"));
    }

    @Test
    void pythonLiterals() {
        assertArrayEquals(new byte[] {'a', '\'', 'b'}, PythonLiteral.parse("\"a'b\""));
        assertArrayEquals(new byte[] {(byte) 0xC2, (byte) 0x85}, PythonLiteral.parse("'\\x85'"), "str: U+0085 in UTF-8");
        assertArrayEquals(new byte[] {(byte) 0x85}, PythonLiteral.parse("b'\\x85'"), "bytes: the raw byte");
        assertArrayEquals(new byte[] {'\\', 'u', '1'}, PythonLiteral.parse("b'\\u1'"), "\\u is no escape in bytes");
        assertArrayEquals(new byte[] {7, 8, 12, 11, 0, 'A'}, PythonLiteral.parse("'\\a\\b\\f\\v\\0\\101'"));
        assertArrayEquals(new byte[] {'\\', 'q'}, PythonLiteral.parse("'\\q'"), "unknown escapes stay verbatim");
    }

    @Test
    void malformedVocabulariesGiveClearErrors() {
        String ok = vocab(true);
        assertError("line 270: id \"x\" is not a number", ok + "x 'a' 1\n");
        assertError("literal is 2 bytes, the line says 3", ok + "300 'ab' 3\n");
        assertError("unterminated", ok + "300 'ab 2\n");
        assertError("non-ASCII character in bytes literal", ok + "300 b'é' 2\n");
        assertError("not a Python string or bytes literal", ok + "300 eval('1') 1\n");
        assertError("defined twice", ok + "258 'zz' 2\n");
        assertError("named", ok + "300 '\\N{BULLET}' 3\n");
        assertError("lone surrogate", ok + "300 '\\ud800' 3\n");
        assertError("expected \"id repr length\"", ok + "300\n");
        assertError("outside [1,", ok + "0 'zz' 2\n");
        assertError("outside [1,", ok + "99999999999 'zz' 2\n");
        assertError("no token for the single byte 0x41", vocab(false));
        assertThrows(TokenizerFormatException.class, () -> RwkvWorldTokenizer.parse(new byte[] {(byte) 0xFF, '\n'}));
    }

    private static void assertError(String fragment, String content) {
        var e = assertThrows(TokenizerFormatException.class,
                () -> RwkvWorldTokenizer.parse(content.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains(fragment), "message \"" + e.getMessage() + "\" lacks \"" + fragment + "\"");
    }
}
