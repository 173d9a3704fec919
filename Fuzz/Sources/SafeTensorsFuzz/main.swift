import FuzzDriver
import ScoreModels

runFuzzer { data in
  guard let mlp = try? SafeTensors.decode(data) else { return }
  // A file that decodes must describe a network that runs.
  var output = [Double](repeating: 0, count: mlp.dimension)
  let x = [Double](repeating: 0.5, count: mlp.dimension)
  x.withUnsafeBufferPointer { xp in output.withUnsafeMutableBufferPointer { mlp.predict(xp, t: 0.5, into: $0) } }
}
