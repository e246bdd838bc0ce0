print("fhe")
