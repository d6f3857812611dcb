from martctl.cli.app import main

main()
