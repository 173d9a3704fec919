import Foundation

// SwiftPM gives executables their own entry point, so each fuzz target is libFuzzer's driver
// through LLVMFuzzerRunDriver rather than libFuzzer's main.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

nonisolated(unsafe) private var body: ((Data) -> Void)?

/// Runs libFuzzer with the command line's options, calling `test` with each input. Any crash,
/// hang, leak or out-of-bounds access (AddressSanitizer) in `test` is a finding; a thrown
/// decoding error is the expected outcome for almost every input.
public func runFuzzer(_ test: @escaping (Data) -> Void) -> Never {
  body = test
  var argc = CommandLine.argc
  var argv = CommandLine.unsafeArgv
  exit(runDriver(&argc, &argv) { bytes, count in
    body?(bytes.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
  })
}
