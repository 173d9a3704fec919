/// SDEKit's version, recorded in every report so a run can be matched to the code that made it.
public let sdekitVersion = "0.6.0"
