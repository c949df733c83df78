module example.com/cao-server

go 1.26
