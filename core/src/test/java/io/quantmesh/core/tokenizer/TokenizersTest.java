package io.quantmesh.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizersTest {

    @Test
    void picksTheTokenizerByItsFile(@TempDir Path dir) throws Exception {
        var e = assertThrows(NoSuchFileException.class, () -> Tokenizers.load(dir, 100));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());

        Path world = Files.writeString(dir.resolve(RwkvWorldTokenizer.VOCAB_FILE), RwkvWorldTokenizerTest.vocab(true));
        assertInstanceOf(RwkvWorldTokenizer.class, Tokenizers.load(dir, 65536));
        assertInstanceOf(RwkvWorldTokenizer.class, Tokenizers.load(world, 65536));

        Files.writeString(dir.resolve("tokenizer.json"), HfTokenizerTest.json(List.of("a"), List.of()).toString());
        assertInstanceOf(HfTokenizer.class, Tokenizers.load(dir, 1), "tokenizer.json comes first");

        Path other = Files.writeString(dir.resolve("vocab.model"), "x");
        assertThrows(TokenizerFormatException.class, () -> Tokenizers.load(other, 1));
        assertThrows(NoSuchFileException.class, () -> Tokenizers.load(dir.resolve("missing"), 1));
    }
}
