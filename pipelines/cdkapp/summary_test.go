package cdkapp

import (
	"strings"
	"testing"
)

func TestSummarizeTemplates(t *testing.T) {
	templates := map[string][]byte{
		// Five types: the three largest are named (ties by name), the rest counted.
		"NetStack-dev": []byte(`{"Resources":{"Vpc":{"Type":"AWS::EC2::VPC"},"A":{"Type":"AWS::EC2::Subnet"},"B":{"Type":"AWS::EC2::Subnet"},` +
			`"R1":{"Type":"AWS::EC2::Route"},"R2":{"Type":"AWS::EC2::Route"},"R3":{"Type":"AWS::EC2::Route"},"Nat":{"Type":"AWS::EC2::NatGateway"},"Eip":{"Type":"AWS::EC2::EIP"}}}`),
		"DataStack-dev":  []byte(`{"Resources":{"Db":{"Type":"AWS::RDS::DBInstance"},"S":{"Type":"AWS::EC2::Subnet"}}}`),
		"RoleStack-dev":  []byte(`{"Resources":{"Role":{"Type":"AWS::IAM::Role"}}}`),
		"EmptyStack-dev": []byte(`{}`),
		"Other":          []byte(`not read`),
	}
	s, err := SummarizeTemplates([]string{"NetStack-dev", "DataStack-dev", "RoleStack-dev", "EmptyStack-dev"}, templates)
	if err != nil {
		t.Fatal(err)
	}
	want := "NetStack-dev: 8 resources (AWS::EC2::Route 3, AWS::EC2::Subnet 2, AWS::EC2::EIP 1, +2 more types)\n" +
		"DataStack-dev: 2 resources (AWS::EC2::Subnet 1, AWS::RDS::DBInstance 1)\n" +
		"RoleStack-dev: 1 resource (AWS::IAM::Role 1)\n" +
		"EmptyStack-dev: 0 resources\n"
	if s.String() != want {
		t.Errorf("summary =\n%s\nwant\n%s", s, want)
	}
	if got := s.Heading(); got != "11 resources in 4 stacks" {
		t.Errorf("heading = %q", got)
	}
	one, err := SummarizeTemplates([]string{"RoleStack-dev"}, templates)
	if err != nil || one.Heading() != "1 resource in 1 stack" {
		t.Errorf("heading of one stack = %q, %v", one.Heading(), err)
	}
	if _, err := SummarizeTemplates([]string{"Missing"}, templates); err == nil || !strings.Contains(err.Error(), "no template") {
		t.Errorf("missing template: %v", err)
	}
	if _, err := SummarizeTemplates([]string{"Other"}, templates); err == nil || !strings.Contains(err.Error(), "template of Other") {
		t.Errorf("bad template: %v", err)
	}
}
