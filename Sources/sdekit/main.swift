print("sdekit")
