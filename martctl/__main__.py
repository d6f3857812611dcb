from martctl.cli.process import main

main()
