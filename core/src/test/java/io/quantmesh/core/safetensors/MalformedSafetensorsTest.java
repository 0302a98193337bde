package io.quantmesh.core.safetensors;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Hostile and broken files: each must be rejected with its own message, quickly, without large allocations. */
class MalformedSafetensorsTest {
    @TempDir
    static Path dir;

    private static final String OK_ENTRY = "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    /** A file with the given header JSON and {@code dataBytes} zero bytes of data. */
    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(h.length).put(h).array();
    }

    static byte[] rawLength(long claimedHeaderLen, int totalSize) {
        ByteBuffer b = ByteBuffer.allocate(Math.max(totalSize, 8)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(claimedHeaderLen);
        return b.array();
    }

    static Stream<Arguments> cases() {
        byte[] badUtf8 = file("{\"w\":1}", 0);
        badUtf8[9] = (byte) 0xC3;   // lone lead byte inside the header
        badUtf8[10] = (byte) 0x28;
        StringBuilder deep = new StringBuilder("{\"m\":");
        for (int i = 0; i < 200; i++) deep.append('[');
        for (int i = 0; i < 200; i++) deep.append(']');
        deep.append('}');
        return Stream.of(
                Arguments.of("too-short", new byte[] {1, 2, 3}, "too short for the 8-byte header length"),
                Arguments.of("zero-header", rawLength(0, 16), "too small to hold a JSON object"),
                Arguments.of("10GB-header", rawLength(10_000_000_000L, 64), "exceeds the limit"),
                Arguments.of("u64-above-2^63", rawLength(-1L, 64), "18446744073709551615 bytes exceeds the limit"),
                Arguments.of("header-past-eof", rawLength(1000, 64), "runs past the end of the file"),
                Arguments.of("not-utf8", badUtf8, "not valid UTF-8"),
                Arguments.of("not-json-object-start", file("[1,2]   ", 0), "does not start with '{'"),
                Arguments.of("bad-json", file("{\"w\": {\"dtype\": }", 0), "not valid JSON"),
                Arguments.of("duplicate-name", file("{" + OK_ENTRY + "," + OK_ENTRY + "}", 8), "not valid JSON"),
                Arguments.of("entry-not-object", file("{\"w\": 5}", 0), "is not a JSON object"),
                Arguments.of("missing-dtype", file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "no string 'dtype'"),
                Arguments.of("unknown-dtype", file("{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
                        "unknown dtype 'F33'"),
                Arguments.of("negative-dim", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
                        "invalid dimension"),
                Arguments.of("offsets-arity", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4),
                        "needs 'data_offsets' as [begin, end]"),
                Arguments.of("offsets-reversed", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4),
                        "begin 4 > end 0"),
                Arguments.of("size-mismatch", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 16),
                        "needs 12"),
                Arguments.of("10GB-tensor", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2500000000],"
                        + "\"data_offsets\":[0,10000000000]}}", 16), "larger than the whole data section"),
                Arguments.of("range-outside-file", file("{\"w\":{\"dtype\":\"U8\",\"shape\":[0],"
                        + "\"data_offsets\":[100,100]}}", 16), "lies outside the data section"),
                Arguments.of("overflowing-shape", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4,4611686018427387904],"
                        + "\"data_offsets\":[0,16]}}", 16), "larger than the whole data section"),
                Arguments.of("overlap", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "overlap"),
                Arguments.of("hole", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                        "unused bytes before tensor 'a'"),
                Arguments.of("trailing-bytes", file("{" + OK_ENTRY + "}", 12), "4 trailing bytes"),
                Arguments.of("metadata-not-string", file("{\"__metadata__\":{\"k\":1}," + OK_ENTRY + "}", 8),
                        "__metadata__ value of 'k' is not a string"),
                Arguments.of("unknown-field", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],"
                        + "\"extra\":1}}", 8), "unknown field 'extra'"),
                Arguments.of("nesting-bomb", file(deep.toString(), 0), "not valid JSON"),
                Arguments.of("rank-bomb", file("{\"w\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"
                        + "\"data_offsets\":[0,1]}}", 1), "rank 18"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void rejectsWithAClearMessage(String name, byte[] content, String expected) throws IOException {
        Path f = dir.resolve(name + ".safetensors");
        Files.write(f, content);
        long t0 = System.nanoTime();
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(f));
        assertTrue(e.getMessage().contains(expected), () -> name + ": got '" + e.getMessage() + "'");
        assertTrue(e.getMessage().startsWith(f.toString()), "message names the file");
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "rejected at once");
    }

    @Test
    void messagesAreDistinct() {
        Set<String> seen = new HashSet<>();
        cases().forEach(a -> seen.add((String) a.get()[2]));
        assertTrue(seen.size() >= 20, "at least 20 distinct rules checked, got " + seen.size());
    }

    @Test
    void tenGigabyteHeaderIsNotAllocated() throws IOException {
        Path f = dir.resolve("huge.safetensors");
        Files.write(f, rawLength(10L << 30, 8));
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(f));
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(after - before < (256L << 20), "no large allocation happened");
    }
}
