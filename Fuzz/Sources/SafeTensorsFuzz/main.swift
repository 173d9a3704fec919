import FuzzDriver
import ScoreModels
import SDEKit

runFuzzer { data in
  guard let mlp = try? SafeTensors.decode(data) else { return }
  // A file that decodes must describe a network that runs.
  let d = mlp.dimension
  var output = [Double](repeating: 0, count: d)
  let x = [Double](repeating: 0.5, count: d)
  x.withUnsafeBufferPointer { xp in
    output.withUnsafeMutableBufferPointer { mlp.predict(BatchView(xp, dimension: d), t: 0.5, into: MutableBatchView($0, dimension: d)) }
  }
}
