"""The network part, beside the runtime: every VPC a network namespace of its own, each pod
a routed port in it, security groups as nftables rules on the ports, elastic IPs as 1:1
NAT from the host, bandwidth with tc. control/ calls it; nothing above control/ knows it."""
