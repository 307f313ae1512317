// Command fakeaws serves the stand-in AWS provider (package fakeaws) on a
// local port and prints "PORT <n>" on its first line of output, for
// PULUMI_DEBUG_PROVIDERS=aws:<n>. It serves until stdin closes or it is
// interrupted, so the process that started it ends it by closing the pipe.
package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"

	"github.com/marketanalytics/pipeline/tools/fakeaws"
)

func main() {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(256 << 20))
	pulumirpc.RegisterResourceProviderServer(srv, fakeaws.New())
	fmt.Printf("PORT %d\n", lis.Addr().(*net.TCPAddr).Port)
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		stdin := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stdin) }()
		select {
		case <-sig:
		case <-stdin:
		}
		srv.Stop()
	}()
	if err := srv.Serve(lis); err != nil {
		log.Fatal(err)
	}
}
