from podyard.cli import main

main()
