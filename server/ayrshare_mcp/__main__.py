from ayrshare_mcp.cli import main

main()
