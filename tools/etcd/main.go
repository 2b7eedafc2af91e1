// Command etcd runs the upstream etcd server. Its own module carries replace
// directives, so `go install` cannot build it; this wrapper consumes it as a library.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
