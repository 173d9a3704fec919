import FuzzDriver
import SampleFiles

runFuzzer { data in
  do {
    let contents = try ConfigurationFile.decode(data)
    // A configuration that decodes is validated next, as `sdekit sample` does.
    _ = try? contents.configuration.validate()
  } catch is ConfigurationFileError {
  } catch {
    preconditionFailure("untyped error \(error)")
  }
}
