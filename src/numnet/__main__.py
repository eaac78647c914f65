from numnet.cli import main

main()
