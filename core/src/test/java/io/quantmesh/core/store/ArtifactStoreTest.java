package io.quantmesh.core.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArtifactStoreTest {
    @TempDir
    Path tmp;

    private ArtifactStore store() throws IOException {
        return new ArtifactStore(tmp.resolve("store"));
    }

    private static void rejected(ArtifactStore s, String uri, String messagePart) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.resolve(uri), uri);
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    }

    @Test
    void resolvesUrisAndPlainRelativePathsUnderTheRoot() throws IOException {
        ArtifactStore s = store();
        assertEquals(s.root().resolve("jobs/j1/h.safetensors"), s.resolve("artifact:jobs/j1/h.safetensors"));
        assertEquals(s.root().resolve("jobs/j1/h.safetensors"), s.resolve("jobs/j1/h.safetensors"));
        assertEquals("artifact:jobs/j1/h.safetensors", s.uri(s.resolve("jobs/./j1//h.safetensors")));
        assertFalse(Files.exists(s.root().resolve("jobs")), "resolve creates nothing");
    }

    @Test
    void confinesUrisToTheRoot() throws IOException {
        ArtifactStore s = store();
        rejected(s, "", "names no file");
        rejected(s, "artifact:", "names no file");
        rejected(s, "artifact:  ", "names no file");
        rejected(s, "artifact:../outside", "'..'");
        rejected(s, "jobs/../../outside", "'..'");
        rejected(s, "jobs/..", "'..'");
        rejected(s, "artifact:/etc/passwd", "absolute");
        rejected(s, "/etc/passwd", "absolute");
        rejected(s, "artifact:jobs\\..\\x", "backslash");
        rejected(s, "artifact:jobs/a\0b", "NUL");
        rejected(s, "artifact:.", "root itself");
        rejected(s, "./", "root itself");
        assertThrows(IllegalArgumentException.class, () -> s.uri(tmp.resolve("elsewhere")));
    }

    @Test
    void refusesSymlinkEscapesButFollowsLinksInsideTheRoot() throws IOException {
        ArtifactStore s = store();
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "x");
        Files.createDirectories(s.root().resolve("jobs"));
        // a symlinked parent directory leading out
        Files.createSymbolicLink(s.root().resolve("jobs/evil"), outside);
        rejected(s, "artifact:jobs/evil/secret", "outside the artifact root");
        rejected(s, "artifact:jobs/evil/new/file", "outside the artifact root");
        assertThrows(IllegalArgumentException.class, () -> s.put("jobs/evil/planted", new byte[]{1}));
        assertFalse(Files.exists(outside.resolve("planted")));
        // a symlinked file leading out, and a dangling one
        Files.createSymbolicLink(s.root().resolve("jobs/file"), outside.resolve("secret"));
        rejected(s, "jobs/file", "outside the artifact root");
        Files.createSymbolicLink(s.root().resolve("jobs/dangling"), outside.resolve("nothing"));
        rejected(s, "jobs/dangling", "dangling");
        // the root's own link target counts as inside
        Files.createDirectories(s.root().resolve("real"));
        Files.createSymbolicLink(s.root().resolve("alias"), s.root().resolve("real"));
        s.put("alias/a.bin", new byte[]{7});
        assertArrayEquals(new byte[]{7}, Files.readAllBytes(s.root().resolve("real/a.bin")));
    }

    @Test
    void aRootReachedThroughALinkStillConfines() throws IOException {
        Path real = Files.createDirectories(tmp.resolve("real-root"));
        Path link = Files.createSymbolicLink(tmp.resolve("link-root"), real);
        ArtifactStore s = new ArtifactStore(link);
        assertEquals(real.toRealPath(), s.root());
        Files.createSymbolicLink(real.resolve("up"), tmp);
        rejected(s, "up/x", "outside");
    }

    @Test
    void putPublishesAtomicallyAndRePutIsIdempotent() throws IOException {
        ArtifactStore s = store();
        byte[] bytes = "hessians".getBytes(StandardCharsets.UTF_8);
        StoredArtifact a = s.put("artifact:jobs/j1/h.bin", bytes);
        assertEquals("artifact:jobs/j1/h.bin", a.uri());
        assertEquals(bytes.length, a.sizeBytes());
        assertEquals(Sha256.of(bytes), a.sha256());
        assertEquals(a, s.put("jobs/j1/h.bin", bytes));
        assertEquals(a, s.describe("jobs/j1/h.bin"));
        assertArrayEquals(bytes, Files.readAllBytes(s.verified(a)));
        try (Stream<Path> l = Files.list(s.root().resolve("jobs/j1"))) {
            assertEquals(1, l.count(), "no temp file left behind");
        }
    }

    @Test
    void aFailedWriteLeavesThePreviousVersionAndNoTempFile() throws IOException {
        ArtifactStore s = store();
        StoredArtifact a = s.put("x/y.bin", new byte[]{1, 2, 3});
        IOException boom = assertThrows(IOException.class, () -> s.put("x/y.bin", temp -> {
            Files.write(temp, new byte[]{9});
            throw new IOException("disk full");
        }));
        assertEquals("disk full", boom.getMessage());
        assertEquals(a, s.describe("x/y.bin"));
        try (Stream<Path> l = Files.list(s.root().resolve("x"))) {
            assertEquals(1, l.count());
        }
        assertThrows(IllegalArgumentException.class, () -> s.put("x", new byte[]{1}), "a directory");
    }

    @Test
    void verifyDetectsAFlippedByteASizeChangeAndAbsence() throws IOException {
        ArtifactStore s = store();
        byte[] bytes = new byte[4096];
        for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) (i * 31);
        StoredArtifact a = s.put("l/00001.safetensors", bytes);
        Path p = s.verified(a);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.seek(1234);
            int b = f.read();
            f.seek(1234);
            f.write(b ^ 0x10);
        }
        ArtifactCorruptException sha = assertThrows(ArtifactCorruptException.class, () -> s.verified(a));
        assertTrue(sha.getMessage().contains("sha256"), sha.getMessage());
        Files.write(p, new byte[10]);
        ArtifactCorruptException size = assertThrows(ArtifactCorruptException.class, () -> s.verified(a));
        assertTrue(size.getMessage().contains("10 bytes, expected 4096"), size.getMessage());
        Files.delete(p);
        assertThrows(NoSuchFileException.class, () -> s.verified(a));
        assertThrows(IllegalArgumentException.class,
                () -> s.verified(new StoredArtifact("artifact:../x", a.sha256(), 1)));
    }

    @Test
    void importCopiesAModelOnceUnderAContentName() throws IOException {
        ArtifactStore s = store();
        Path model = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{\"dim\": 64}");
        Files.write(model.resolve("model.safetensors"), new byte[1000]);
        Files.createDirectories(model.resolve("sub"));
        Files.writeString(model.resolve("sub/tokenizer.json"), "{}");
        String uri = s.importDirectory(model, "tiny");
        assertTrue(uri.matches("artifact:models/tiny-[0-9a-f]{8}"), uri);
        Path copy = s.resolve(uri);
        assertEquals(Files.readString(model.resolve("config.json")), Files.readString(copy.resolve("config.json")));
        assertEquals("{}", Files.readString(copy.resolve("sub/tokenizer.json")));
        long mtime = Files.getLastModifiedTime(copy.resolve("model.safetensors")).toMillis();
        assertEquals(uri, s.importDirectory(model, "tiny"), "idempotent");
        assertEquals(mtime, Files.getLastModifiedTime(copy.resolve("model.safetensors")).toMillis(), "not re-copied");
        try (Stream<Path> l = Files.list(s.root().resolve("models"))) {
            assertEquals(1, l.count(), "no temp directory left behind");
        }
        Files.writeString(model.resolve("config.json"), "{\"dim\": 65}");
        assertFalse(uri.equals(s.importDirectory(model, "tiny")), "other content, other name");
    }

    @Test
    void importRejectsLinksBadNamesAndOversize() throws IOException {
        ArtifactStore s = store();
        Path model = Files.createDirectories(tmp.resolve("model"));
        Files.write(model.resolve("model.safetensors"), new byte[100]);
        assertThrows(IllegalArgumentException.class, () -> s.importDirectory(model, "../x"));
        assertThrows(IllegalArgumentException.class, () -> s.importDirectory(model, ""));
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> s.importDirectory(model, "m", 99));
        assertTrue(big.getMessage().contains("import limit"), big.getMessage());
        Files.writeString(tmp.resolve("secret"), "x");
        Files.createSymbolicLink(model.resolve("config.json"), tmp.resolve("secret"));
        IllegalArgumentException link = assertThrows(IllegalArgumentException.class, () -> s.importDirectory(model, "m"));
        assertTrue(link.getMessage().contains("symbolic link"), link.getMessage());
        assertFalse(Files.exists(s.root().resolve("models")) && Files.list(s.root().resolve("models")).findAny()
                .isPresent(), "nothing imported");
        assertThrows(NoSuchFileException.class, () -> s.importDirectory(tmp.resolve("none"), "m"));
    }
}
