import Foundation
import ScoreModels

// libFuzzer calls this with mutated inputs; any crash, hang or out-of-bounds read (AddressSanitizer)
// is a bug. A decoding error is the expected outcome for almost every input.
func fuzzSafeTensors(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard let bytes else { return 0 }
  let data = Data(bytes: bytes, count: count)
  if let mlp = try? SafeTensors.decode(data) {
    // A file that decodes must describe a network that runs.
    var output = [Double](repeating: 0, count: mlp.dimension)
    let x = [Double](repeating: 0.5, count: mlp.dimension)
    x.withUnsafeBufferPointer { xp in output.withUnsafeMutableBufferPointer { mlp.predict(xp, t: 0.5, into: $0) } }
  }
  return 0
}

// SwiftPM gives executables their own entry point, so this program is libFuzzer's driver
// through LLVMFuzzerRunDriver rather than libFuzzer's main.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runDriver(&argc, &argv) { fuzzSafeTensors($0, $1) })
