import Foundation
import RunnerCLI

// `runner`: the command line is declared, parsed and run in the RunnerCLI library.
exit(RunnerCLI.main(arguments: Array(CommandLine.arguments.dropFirst())))
