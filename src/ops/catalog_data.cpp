// The instance catalogue data/catalog/aws.csv, compiled in so that `d2l cost` works from any
// folder. A test checks that this copy equals the file: regenerate it with scripts/embed-catalog.
#include "catalog_data.h"

namespace d2l::ops::detail {

const char* const kEmbeddedCatalog =
    R"CSV(# d2l-cpp instance catalogue, in the columns of SkyPilot's catalogue (schema v5 vms.csv).
# Prices: USD per hour, on-demand, Linux, region us-east-1 (N. Virginia), from AWS's public
# price pages (aws.amazon.com/ec2/pricing/on-demand and aws.amazon.com/sagemaker/pricing) as
# published in 2024, written down here on 2026-11-26 without network access to re-check them:
# verify before you rely on them, and put your own prices in $D2L_CONFIG_DIR/catalog.csv.
# SpotPrice is left empty: spot prices move hourly. ml.* rows are SageMaker notebook instances.
InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GPUInfo,Region,AvailabilityZone,Price,SpotPrice
t3.medium,2,4,,,,us-east-1,,0.0416,
t3.large,2,8,,,,us-east-1,,0.0832,
m5.large,2,8,,,,us-east-1,,0.096,
m5.xlarge,4,16,,,,us-east-1,,0.192,
g4dn.xlarge,4,16,T4,1,"{'Gpus': [{'Name': 'T4', 'Manufacturer': 'NVIDIA', 'Count': 1.0, 'MemoryInfo': {'SizeInMiB': 16384}}], 'TotalGpuMemoryInMiB': 16384}",us-east-1,,0.526,
p3.2xlarge,8,61,V100,1,"{'Gpus': [{'Name': 'V100', 'Manufacturer': 'NVIDIA', 'Count': 1.0, 'MemoryInfo': {'SizeInMiB': 16384}}], 'TotalGpuMemoryInMiB': 16384}",us-east-1,,3.06,
p3.8xlarge,32,244,V100,4,"{'Gpus': [{'Name': 'V100', 'Manufacturer': 'NVIDIA', 'Count': 4.0, 'MemoryInfo': {'SizeInMiB': 16384}}], 'TotalGpuMemoryInMiB': 65536}",us-east-1,,12.24,
p4d.24xlarge,96,1152,A100,8,"{'Gpus': [{'Name': 'A100', 'Manufacturer': 'NVIDIA', 'Count': 8.0, 'MemoryInfo': {'SizeInMiB': 40960}}], 'TotalGpuMemoryInMiB': 327680}",us-east-1,,32.7726,
ml.t3.medium,2,4,,,,us-east-1,,0.05,
ml.m5.large,2,8,,,,us-east-1,,0.115,
ml.p3.2xlarge,8,61,V100,1,"{'Gpus': [{'Name': 'V100', 'Manufacturer': 'NVIDIA', 'Count': 1.0, 'MemoryInfo': {'SizeInMiB': 16384}}], 'TotalGpuMemoryInMiB': 16384}",us-east-1,,3.825,
ml.p4d.24xlarge,96,1152,A100,8,"{'Gpus': [{'Name': 'A100', 'Manufacturer': 'NVIDIA', 'Count': 8.0, 'MemoryInfo': {'SizeInMiB': 40960}}], 'TotalGpuMemoryInMiB': 327680}",us-east-1,,37.688,
)CSV";

}  // namespace d2l::ops::detail
