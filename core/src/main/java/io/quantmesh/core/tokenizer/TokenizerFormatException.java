package io.quantmesh.core.tokenizer;

import java.io.IOException;

/** A tokenizer file that is malformed, hostile, or uses a feature this implementation does not support. */
public final class TokenizerFormatException extends IOException {
    public TokenizerFormatException(String message) {
        super(message);
    }

    public TokenizerFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
