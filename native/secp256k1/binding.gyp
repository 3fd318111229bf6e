{
  "targets": [
    {
      "target_name": "secp256k1",
      "sources": ["secp256k1.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lsecp256k1"]
    }
  ]
}
