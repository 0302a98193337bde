package io.quantmesh.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code quantmesh} command. Each subcommand is a small class in this package. */
@Command(name = "quantmesh", mixinStandardHelpOptions = true, version = "quantmesh 0.1.0",
        description = "Compress LLMs to ~2 bits per weight and serve them.",
        subcommands = {CommandLine.HelpCommand.class, DemoCommand.class, InspectCommand.class, TokenizeCommand.class,
                ImportLlama2cCommand.class, GenerateCommand.class, PplCommand.class, SynthCommand.class,
                BenchCommand.class, LogitsCommand.class, UpcycleCommand.class, CalibrateCommand.class,
                BenchHessianCommand.class, BenchCodebooksCommand.class, CodebookServerCommand.class,
                BenchGptqCommand.class, QuantizeRtnCommand.class, QuantizeCommand.class, ResultsCommand.class,
                DiagnosePcdvqCommand.class, QuantServerCommand.class, MeshCommand.class, SubmitCommand.class,
                JobsCommand.class, ServeCommand.class, BenchMeshCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // One line, a distinct exit code: scripts and humans both need the reason, not a stack trace.
            cmd.getErr().println("quantmesh " + cmd.getCommandName() + ": " + reason(ex));
            if (System.getenv("QUANTMESH_DEBUG") != null) ex.printStackTrace(cmd.getErr());
            return ex instanceof IllegalArgumentException || ex instanceof java.io.IOException ? 2 : 1;
        });
        return cl;
    }

    /** NIO file exceptions carry only the path as their message; say what happened to it. */
    static String reason(Exception ex) {
        if (ex instanceof java.nio.file.FileSystemException f && f.getReason() != null) return ex.getMessage();
        return switch (ex) {
            case java.nio.file.NoSuchFileException e -> "no such file: " + e.getFile();
            case java.nio.file.AccessDeniedException e -> "access denied: " + e.getFile();
            case java.nio.file.NotDirectoryException e -> "not a directory: " + e.getFile();
            case java.nio.file.FileAlreadyExistsException e -> "already exists: " + e.getFile();
            default -> ex.getMessage() != null ? ex.getMessage() : ex.getClass().getSimpleName();
        };
    }
}
