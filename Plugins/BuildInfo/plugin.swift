import Foundation
import PackagePlugin

/// Generates `BuildInfo.swift` for the `backfill` executable before every build: the commit the
/// binary is built from (`git rev-parse`, `-dirty` with local changes; `unknown` outside a clone),
/// for `backfill --version`. The file is rewritten only when the commit changes, so an unchanged
/// build recompiles nothing.
@main
struct BuildInfo: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = context.pluginWorkDirectoryURL.appending(path: "generated")
        let file = directory.appending(path: "BuildInfo.swift")
        let script = #"""
            set -u
            repository=$1
            g() { git -c safe.directory='*' -C "$repository" "$@"; }
            commit=$(g rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
            if [ "$commit" != unknown ] && ! g diff --quiet HEAD 2>/dev/null; then commit="$commit-dirty"; fi
            mkdir -p "$2"
            text="/// Written by the BuildInfo plugin.
            enum BuildInfo { static let commit = \"$commit\" }"
            if [ ! -f "$3" ] || [ "$(cat "$3")" != "$text" ]; then printf '%s\n' "$text" > "$3"; fi
            """#
        return [
            .prebuildCommand(
                displayName: "Recording the commit for backfill --version",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "buildinfo", context.package.directoryURL.path, directory.path, file.path],
                outputFilesDirectory: directory)
        ]
    }
}
