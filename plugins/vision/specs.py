SPECS: list = []
