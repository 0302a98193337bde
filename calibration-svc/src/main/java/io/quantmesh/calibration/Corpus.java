package io.quantmesh.calibration;

import java.util.List;

/**
 * A selection of corpora as one text: the files in order, each followed by a blank line, read cyclically (the
 * text after the last file continues with the first).
 *
 * @param names the corpus names, in selection order
 * @param files the files read, relative to the corpora root
 * @param text  their concatenation
 */
public record Corpus(List<String> names, List<String> files, String text) {
    public Corpus {
        names = List.copyOf(names);
        files = List.copyOf(files);
        if (text.isBlank()) throw new IllegalArgumentException("corpora " + names + " hold no text");
    }
}
