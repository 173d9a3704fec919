import sdekit

runSDEKit()
