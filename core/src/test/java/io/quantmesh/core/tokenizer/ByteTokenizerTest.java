package io.quantmesh.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ByteTokenizerTest {
    private final ByteTokenizer tok = ByteTokenizer.instance();

    @Test
    void bytesAreTokens() {
        assertEquals(256, tok.vocabSize());
        assertEquals(-1, tok.bosId());
        assertEquals(-1, tok.eosId());
        assertArrayEquals(new int[] {'"', 'i', 'n'}, tok.encode("\"in"));
        assertArrayEquals(new int[] {0xc3, 0xa9}, tok.encode("é")); // UTF-8 bytes
        String text = "naïve café\n";
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int prev = -1;
        for (int t : tok.encode(text)) {
            out.writeBytes(tok.decodeBytes(prev, t));
            prev = t;
        }
        assertEquals(text, out.toString(StandardCharsets.UTF_8));
        assertEquals("a", tok.piece('a'));
        assertEquals("<0x0A>", tok.piece('\n'));
        assertThrows(IllegalArgumentException.class, () -> tok.piece(256));
    }
}
