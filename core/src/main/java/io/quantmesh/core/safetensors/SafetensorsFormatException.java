package io.quantmesh.core.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/** A safetensors file violates the format; the message names the file and the violated rule. */
public final class SafetensorsFormatException extends IOException {
    public SafetensorsFormatException(Path file, String message) {
        super(file + ": " + message);
    }
}
