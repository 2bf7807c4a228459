package ingest

import "net/netip"

// FlowRecord is one VPC Flow Logs record (the fields of formats v2 to
// v5, as the VPC user guide documents them). A field the log's format
// lacks, or that the record gives as "-", is the zero value (Protocol:
// -1). Strings that repeat from record to record (accounts, interfaces,
// instances) are interned by the reader, so a batch holds each once.
type FlowRecord struct {
	Line int // 1-based line in the body, the header included
	Size int // bytes of the line, its newline included (usage statistics)

	Version     int
	AccountID   string // account-id: the account owning the interface
	InterfaceID string // interface-id (eni-…)
	SrcAddr     netip.Addr
	DstAddr     netip.Addr
	SrcPort     uint16
	DstPort     uint16
	Protocol    int16 // IANA number; -1 when absent
	Packets     int64
	Bytes       int64
	Start       int64 // unix seconds
	End         int64 // unix seconds
	Action      FlowAction
	LogStatus   FlowLogStatus

	// v3
	VPCID      string
	SubnetID   string
	InstanceID string
	TCPFlags   uint16
	Type       string // IPv4, IPv6 or EFA
	PktSrcAddr netip.Addr
	PktDstAddr netip.Addr

	// v4
	Region          string
	AZID            string
	SublocationType string
	SublocationID   string

	// v5
	PktSrcAWSService string
	PktDstAWSService string
	FlowDirection    FlowDirection
	TrafficPath      int8 // 0 when absent
}

// FlowAction is a record's action.
type FlowAction uint8

const (
	FlowActionNone   FlowAction = iota // "-": NODATA and SKIPDATA records
	FlowActionAccept                   // ACCEPT
	FlowActionReject                   // REJECT
)

// FlowLogStatus is a record's log-status.
type FlowLogStatus uint8

const (
	FlowOK       FlowLogStatus = iota // OK: data is logging normally
	FlowNoData                        // NODATA: no traffic in the window; the record carries no flow
	FlowSkipData                      // SKIPDATA: records were skipped; the record carries no flow
)

// FlowDirection is a record's flow-direction (v5).
type FlowDirection uint8

const (
	FlowDirectionUnknown FlowDirection = iota // the format lacks flow-direction
	FlowIngress
	FlowEgress
)
