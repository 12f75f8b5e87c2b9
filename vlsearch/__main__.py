from vlsearch.cli import main

main()
