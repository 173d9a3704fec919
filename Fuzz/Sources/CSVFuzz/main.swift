import FuzzDriver
import SampleFiles

runFuzzer { data in
  do {
    let batch = try CSVFile.decode(data)
    precondition(batch.values.count == batch.count * batch.dimension)
  } catch is SampleFileError {
  } catch {
    preconditionFailure("untyped error \(error)")
  }
}
