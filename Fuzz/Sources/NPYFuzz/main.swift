import FuzzDriver
import SampleFiles

runFuzzer { data in
  do {
    let batch = try NPYFile.decode(data)
    // What decodes must be what the header promised, and must encode again.
    let header = try NPYFile.readHeader(data)
    precondition(data.count == header.dataOffset + header.dataLength)
    precondition(batch.values.count == header.count * header.dimension)
    _ = NPYFile.encode(batch)
  } catch is SampleFileError {
  } catch {
    preconditionFailure("untyped error \(error)")
  }
}
