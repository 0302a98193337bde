package io.quantmesh.calibration;

import io.quantmesh.core.Shared;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The calibration corpora: a directory whose entries are corpora, either one text file ({@code brown.txt} is corpus
 * "brown") or a directory of text files ({@code austen/} is corpus "austen", its {@code *.txt} in name order).
 * Evaluation text must never be calibration text, so a root that is, holds or lies inside the shared
 * {@code data/eval} directory is refused, and no file may resolve (through links) outside the root.
 */
public final class Corpora {
    /** The default selection: running English prose. brown is opt-in (its pre-tokenized spacing is unnatural). */
    public static final List<String> DEFAULT = List.of("austen", "moby-dick", "sotu");
    /** Bytes one selection may load (the shared corpora hold ~22 MB in all). */
    static final long MAX_BYTES = 256L << 20;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");

    private final Path root;

    public Corpora(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("corpora directory " + root + " does not exist");
        }
        this.root = root.toRealPath();
        Path eval = Shared.resolve("data/eval");
        if (Files.isDirectory(eval)) {
            Path e = eval.toRealPath();
            if (this.root.startsWith(e) || e.startsWith(this.root)) {
                throw new IllegalArgumentException("corpora directory " + root + " overlaps the evaluation texts "
                        + eval + ": evaluation text must never be used for calibration");
            }
        }
    }

    /** ../shared/data/corpora. */
    public static Corpora shared() throws IOException {
        return new Corpora(Shared.resolve("data/corpora"));
    }

    public Path root() {
        return root;
    }

    /** Every corpus name, sorted. */
    public List<String> names() throws IOException {
        TreeSet<String> names = new TreeSet<>();
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.toList()) {
                String f = p.getFileName().toString();
                if (Files.isDirectory(p) && NAME.matcher(f).matches()) names.add(f);
                else if (f.endsWith(".txt") && NAME.matcher(f.substring(0, f.length() - 4)).matches()) {
                    names.add(f.substring(0, f.length() - 4));
                }
            }
        }
        return List.copyOf(names);
    }

    /** The text files of corpus {@code name}, in name order. */
    public List<Path> files(String name) throws IOException {
        if (!NAME.matcher(name).matches()) throw new IllegalArgumentException("invalid corpus name '" + name + "'");
        Path dir = root.resolve(name), file = root.resolve(name + ".txt");
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> p.getFileName().toString().endsWith(".txt") && Files.isRegularFile(p)).sorted()
                        .forEach(files::add);
            }
        } else if (Files.isRegularFile(file)) {
            files.add(file);
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("unknown corpus '" + name + "' (available: " + String.join(", ", names())
                    + ")");
        }
        for (Path f : files) {
            if (!f.toRealPath().startsWith(root)) throw new IllegalArgumentException(f + " resolves outside " + root);
        }
        return files;
    }

    /**
     * Loads the named corpora (duplicates dropped, in the order given) as one text: every file, CRLF/CR turned into
     * LF and a leading BOM dropped, followed by a blank line.
     */
    public Corpus load(List<String> names) throws IOException {
        List<String> selection = names.isEmpty() ? DEFAULT : names.stream().distinct().toList();
        List<Path> files = new ArrayList<>();
        for (String n : selection) files.addAll(files(n));
        long bytes = 0;
        for (Path f : files) bytes += Files.size(f);
        if (bytes > MAX_BYTES) {
            throw new IllegalArgumentException("corpora " + selection + " hold " + bytes + " bytes, more than "
                    + MAX_BYTES);
        }
        StringBuilder text = new StringBuilder((int) bytes + 2 * files.size());
        try {
            for (Path f : files) {
                String s = Files.readString(f, StandardCharsets.UTF_8);
                if (s.startsWith("\uFEFF")) s = s.substring(1);
                text.append(s.replace("\r\n", "\n").replace('\r', '\n')).append("\n\n");
            }
        } catch (MalformedInputException e) {
            throw new IllegalArgumentException("a file of corpora " + selection + " is not UTF-8");
        }
        return new Corpus(selection, files.stream().map(f -> root.relativize(f).toString()).toList(), text.toString());
    }
}
